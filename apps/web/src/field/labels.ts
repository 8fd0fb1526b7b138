// Labels of the contracts' enums, copied here so the phone does not load the contracts' runtime (zod).
// Keep in step with packages/contracts/src/fieldwork.ts and registry.ts (checked by api.test.ts).
export const visitKinds = {
  routine: { zh: '日常走访', en: 'Routine visit' },
  care: { zh: '关爱探访', en: 'Care visit' },
  follow_up: { zh: '回访', en: 'Follow-up' },
  dispute: { zh: '矛盾调解', en: 'Dispute mediation' },
  safety: { zh: '安全检查', en: 'Safety check' },
} as const;

export const visitNeeds = {
  medical: { zh: '就医', en: 'Medical' },
  elderly_care: { zh: '养老照护', en: 'Elderly care' },
  financial: { zh: '生活困难', en: 'Financial hardship' },
  employment: { zh: '就业', en: 'Employment' },
  housing: { zh: '住房', en: 'Housing' },
  dispute: { zh: '矛盾纠纷', en: 'Dispute' },
  safety: { zh: '安全隐患', en: 'Safety hazard' },
  other: { zh: '其他', en: 'Other' },
} as const;

export const personStatuses = {
  active: { zh: '在册', en: 'Active' },
  moved_out: { zh: '迁出', en: 'Moved out' },
  deceased: { zh: '死亡', en: 'Deceased' },
} as Record<string, { zh: string; en: string }>;
