import { z } from 'zod';
import { PageQuerySchema, RegionCodeSchema } from './common.ts';

/**
 * The registry 一标三实 (standard address + actual people, houses, organisations). ID numbers and phones are
 * masked in every response (`110105********002X`, `138****5678`); the full value only through reveal.
 */

export const buildingKindValues = [
  'residential',
  'commercial',
  'mixed',
  'public',
  'industrial',
  'bungalow',
  'other',
] as const;
export const householdKindValues = ['registered', 'floating', 'rental'] as const;
export const householdStatusValues = ['active', 'moved_out', 'dissolved'] as const;
export const genderValues = ['male', 'female', 'unknown'] as const;
export const idTypeValues = [
  'resident_id',
  'passport',
  'hk_macao_permit',
  'taiwan_permit',
  'foreign_permanent',
  'other',
] as const;
export const personStatusValues = ['active', 'moved_out', 'deceased'] as const;
export const relationToHeadValues = [
  'head',
  'spouse',
  'child',
  'parent',
  'grandchild',
  'grandparent',
  'sibling',
  'child_in_law',
  'tenant',
  'other',
] as const;

/** Specialties (条线) a professional worker is granted; each key-population tag belongs to one. */
export const specialtyValues = ['civil_affairs', 'public_security', 'judicial', 'health'] as const;
export type Specialty = (typeof specialtyValues)[number];

/** Key-population tags (重点人群, after GB/T 31000) and the specialty that looks after each. */
export const personTagSpecialty = {
  elderly_alone: 'civil_affairs', // 独居老人
  empty_nest: 'civil_affairs', // 空巢老人
  disabled: 'civil_affairs', // 残疾人
  low_income: 'civil_affairs', // 困难家庭 / 低保
  left_behind_child: 'civil_affairs', // 留守儿童
  corrections: 'judicial', // 社区矫正
  released_prisoner: 'judicial', // 刑满释放
  drug_rehab: 'public_security', // 吸毒人员
  petitioner_key: 'public_security', // 重点信访人员
  mental_illness_severe: 'health', // 严重精神障碍
  pregnant: 'health', // 孕产妇
} as const satisfies Record<string, Specialty>;
export type PersonTagKind = keyof typeof personTagSpecialty;
export const personTagKindValues = Object.keys(personTagSpecialty) as [PersonTagKind, ...PersonTagKind[]];

/** A tag's own fields (corrections period, care needs, guardian…): short scalar values. */
export const TagFieldsSchema = z.record(
  z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,39}$/),
  z.union([z.string().max(500), z.number(), z.boolean(), z.null()]),
);

/**
 * Each tag's own fields (after the GB/T 31000 datasets for special groups): key → type and label. A tag may carry
 * only these keys, each of its type (null clears one); all are optional, so a tag can be recorded first and
 * completed on the next visit. Dates are YYYY-MM-DD.
 */
export type TagFieldType =
  | { type: 'text'; max?: number }
  | { type: 'date' }
  | { type: 'number'; min: number; max: number; integer?: boolean }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] };
export type TagFieldDefinition = TagFieldType & { zh: string; en: string };

const visitFrequency = {
  type: 'enum',
  values: ['weekly', 'monthly', 'quarterly'],
  zh: '探访频次',
  en: 'Visits',
} as const;
const guardian = { type: 'text', max: 50, zh: '监护人', en: 'Guardian' } as const;
export const personTagFields: Record<PersonTagKind, Record<string, TagFieldDefinition>> = {
  elderly_alone: {
    livingAbility: { type: 'enum', values: ['自理', '半自理', '不能自理'], zh: '生活能力', en: 'Self-care' },
    careNeeds: { type: 'text', max: 200, zh: '照护需求', en: 'Care needs' },
    visitFrequency,
  },
  empty_nest: {
    childrenLiveIn: { type: 'text', max: 100, zh: '子女居住地', en: 'Children live in' },
    visitFrequency,
  },
  disabled: {
    category: {
      type: 'enum',
      values: ['视力', '听力', '言语', '肢体', '智力', '精神', '多重'],
      zh: '残疾类别',
      en: 'Category',
    },
    grade: { type: 'number', min: 1, max: 4, integer: true, zh: '残疾等级', en: 'Grade' },
    certificate: { type: 'boolean', zh: '持残疾人证', en: 'Holds a certificate' },
  },
  low_income: {
    kind: {
      type: 'enum',
      values: ['城市低保', '农村低保', '特困供养', '低保边缘'],
      zh: '救助类别',
      en: 'Kind',
    },
    since: { type: 'date', zh: '起始日期', en: 'Since' },
    monthlyAllowance: {
      type: 'number',
      min: 0,
      max: 100_000,
      zh: '月救助金(元)',
      en: 'Monthly allowance (CNY)',
    },
  },
  left_behind_child: {
    guardian,
    guardianRelation: { type: 'text', max: 20, zh: '监护人关系', en: 'Guardian relation' },
    parentsWorkIn: { type: 'text', max: 100, zh: '父母务工地', en: 'Parents work in' },
  },
  corrections: {
    kind: { type: 'enum', values: ['缓刑', '假释', '管制', '暂予监外执行'], zh: '矫正类别', en: 'Kind' },
    periodFrom: { type: 'date', zh: '矫正起始', en: 'Period from' },
    periodTo: { type: 'date', zh: '矫正结束', en: 'Period to' },
    supervisor: { type: 'text', max: 50, zh: '矫正责任人', en: 'Supervisor' },
  },
  released_prisoner: {
    releasedOn: { type: 'date', zh: '释放日期', en: 'Released on' },
    placement: { type: 'enum', values: ['已安置', '待安置'], zh: '安置情况', en: 'Placement' },
  },
  drug_rehab: {
    measure: { type: 'enum', values: ['社区戒毒', '社区康复'], zh: '管控措施', en: 'Measure' },
    since: { type: 'date', zh: '起始日期', en: 'Since' },
    tested: { type: 'boolean', zh: '已定期检测', en: 'Tested regularly' },
  },
  petitioner_key: {
    topic: { type: 'text', max: 100, zh: '信访事项', en: 'Topic' },
  },
  mental_illness_severe: {
    riskLevel: { type: 'number', min: 0, max: 5, integer: true, zh: '危险性评估等级', en: 'Risk level' },
    guardian,
    medicationManaged: { type: 'boolean', zh: '规律服药', en: 'Medication managed' },
  },
  pregnant: {
    gestationWeeks: { type: 'number', min: 1, max: 45, integer: true, zh: '孕周', en: 'Weeks' },
    dueDate: { type: 'date', zh: '预产期', en: 'Due date' },
  },
};

/** What is wrong with a tag's fields, per key (empty when they fit the kind's definitions). */
export function tagFieldProblems(
  kind: PersonTagKind,
  fields: Record<string, string | number | boolean | null>,
): { key: string; message: string }[] {
  const definitions = personTagFields[kind];
  const problems: { key: string; message: string }[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const def = definitions[key];
    if (!def) {
      problems.push({
        key,
        message: `该标签没有此字段,可填: ${Object.keys(definitions).join(', ')} (no such field for this tag)`,
      });
      continue;
    }
    if (value === null) continue;
    const bad = (message: string) => problems.push({ key, message });
    switch (def.type) {
      case 'text':
        if (typeof value !== 'string') bad('应为文字 (text expected)');
        else if (value.length > (def.max ?? 500)) bad(`最多 ${def.max ?? 500} 字 (too long)`);
        break;
      case 'date':
        if (
          typeof value !== 'string' ||
          !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
          Number.isNaN(Date.parse(value))
        )
          bad('日期格式 YYYY-MM-DD (date YYYY-MM-DD)');
        break;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) bad('应为数字 (number expected)');
        else if (value < def.min || value > def.max) bad(`应在 ${def.min}–${def.max} 之间 (out of range)`);
        else if (def.integer && !Number.isInteger(value)) bad('应为整数 (whole number expected)');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') bad('应为是/否 (true or false expected)');
        break;
      case 'enum':
        if (typeof value !== 'string' || !def.values.includes(value)) bad(`可选: ${def.values.join(', ')}`);
        break;
    }
  }
  return problems;
}

/** A tag as written by a client: its kind and fields checked against `personTagFields`. */
const TagInputSchema = z
  .object({ kind: z.enum(personTagKindValues), fields: TagFieldsSchema.default({}) })
  .superRefine((tag, ctx) => {
    for (const problem of tagFieldProblems(tag.kind, tag.fields))
      ctx.addIssue({ code: 'custom', path: ['fields', problem.key], message: problem.message });
  });

export const PersonTagSchema = z.object({
  kind: z.enum(personTagKindValues),
  specialty: z.enum(specialtyValues),
  fields: TagFieldsSchema,
});
export type PersonTag = z.infer<typeof PersonTagSchema>;

const text = (max: number) => z.string().trim().min(1).max(max);
const DateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式 YYYY-MM-DD (date YYYY-MM-DD)');

export const CreatePersonRequestSchema = z.object({
  name: text(50),
  gender: z.enum(genderValues),
  birthDate: DateSchema.optional(),
  idType: z.enum(idTypeValues).default('resident_id'),
  idNumber: z.string().trim().min(4).max(40),
  phone: z.string().trim().min(5).max(30).optional(),
  ethnicity: text(20).optional(),
  registeredResidence: text(200).optional(),
  currentAddress: text(200).optional(),
  work: text(200).optional(),
  /** The grid where they live; with a household it must be the household's grid. */
  gridCode: RegionCodeSchema,
  householdId: z.number().int().positive().optional(),
  relationToHead: z.enum(relationToHeadValues).optional(),
  tags: z.array(TagInputSchema).max(20).default([]),
});
export type CreatePersonRequest = z.infer<typeof CreatePersonRequestSchema>;

export const PersonSummarySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  gender: z.enum(genderValues),
  birthDate: z.string().nullable(),
  idType: z.enum(idTypeValues),
  idNumberMasked: z.string(),
  phoneMasked: z.string().nullable(),
  status: z.enum(personStatusValues),
  householdId: z.number().int().nullable(),
  relationToHead: z.enum(relationToHeadValues).nullable(),
  gridCode: z.string(),
  /** Present only for callers who may read key-population tags, and only the tags they may see. */
  tags: z.array(PersonTagSchema).optional(),
});
export type PersonSummary = z.infer<typeof PersonSummarySchema>;

export const PersonSchema = PersonSummarySchema.extend({
  gridName: z.string(),
  ethnicity: z.string().nullable(),
  registeredResidence: z.string().nullable(),
  currentAddress: z.string().nullable(),
  work: z.string().nullable(),
  movedOutAt: z.string().nullable(),
  createdAt: z.string(),
  /** Bumped by every change; send it back as `expectedVersion` when patching. */
  version: z.number().int(),
});
export type Person = z.infer<typeof PersonSchema>;

/**
 * A change to a person: only the fields present change; `null` clears phone, address, work or the household.
 * Moving to another household (in the caller's scope) moves the person to its grid. Tags need `person.tags.read`
 * as well (a professional worker only the tags of their specialty). `expectedVersion` → 409 when stale.
 */
export const UpdatePersonRequestSchema = z
  .object({
    expectedVersion: z.number().int().positive().optional(),
    name: text(50).optional(),
    phone: z.string().trim().min(5).max(30).nullable().optional(),
    currentAddress: text(200).nullable().optional(),
    work: text(200).nullable().optional(),
    status: z.enum(personStatusValues).optional(),
    householdId: z.number().int().positive().nullable().optional(),
    relationToHead: z.enum(relationToHeadValues).nullable().optional(),
    tags: z
      .object({
        add: z.array(TagInputSchema).max(20).default([]),
        remove: z.array(z.enum(personTagKindValues)).max(20).default([]),
      })
      .optional(),
  })
  .strict();
export type UpdatePersonRequest = z.infer<typeof UpdatePersonRequestSchema>;

export const PersonListQuerySchema = PageQuerySchema.extend({
  grid: RegionCodeSchema.optional(),
  /** A name prefix, or an exact ID number or phone (matched through the keyed hash). */
  q: z.string().trim().min(1).max(40).optional(),
  tag: z.enum(personTagKindValues).optional(),
});
export type PersonListQuery = z.infer<typeof PersonListQuerySchema>;

export const PersonListSchema = z.object({
  items: z.array(PersonSummarySchema),
  nextCursor: z.string().nullable(),
});
export type PersonList = z.infer<typeof PersonListSchema>;

export const RevealRequestSchema = z.object({
  field: z.enum(['idNumber', 'phone']),
  reason: z.string().trim().min(4).max(500),
});
export type RevealRequest = z.infer<typeof RevealRequestSchema>;

export const RevealResponseSchema = z.object({
  field: z.enum(['idNumber', 'phone']),
  /** Null when the person has no such value (no phone). */
  value: z.string().nullable(),
});
export type RevealResponse = z.infer<typeof RevealResponseSchema>;

export const CreateBuildingRequestSchema = z.object({
  gridCode: RegionCodeSchema,
  name: text(60),
  kind: z.enum(buildingKindValues),
  floors: z.number().int().min(1).max(200).optional(),
  location: z.object({ lng: z.number().min(-180).max(180), lat: z.number().min(-90).max(90) }).optional(),
});
export type CreateBuildingRequest = z.infer<typeof CreateBuildingRequestSchema>;

export const BuildingSchema = z.object({
  id: z.number().int(),
  gridCode: z.string(),
  name: z.string(),
  kind: z.enum(buildingKindValues),
  floors: z.number().int().nullable(),
  location: z.object({ lng: z.number(), lat: z.number() }).nullable(),
  households: z.number().int(),
});
export type Building = z.infer<typeof BuildingSchema>;

export const BuildingListSchema = z.object({ items: z.array(BuildingSchema) });

export const CreateHouseholdRequestSchema = z.object({
  buildingId: z.number().int().positive(),
  kind: z.enum(householdKindValues),
  unit: text(20).optional(),
  room: text(20).optional(),
});
export type CreateHouseholdRequest = z.infer<typeof CreateHouseholdRequestSchema>;

export const HouseholdSchema = z.object({
  id: z.number().int(),
  kind: z.enum(householdKindValues),
  status: z.enum(householdStatusValues),
  buildingId: z.number().int().nullable(),
  unit: z.string().nullable(),
  room: z.string().nullable(),
  gridCode: z.string(),
  members: z.array(PersonSummarySchema),
});
export type Household = z.infer<typeof HouseholdSchema>;

export const HouseholdListSchema = z.object({ items: z.array(HouseholdSchema) });

/** Person → household → building (提人知户). */
export const PersonHouseholdSchema = z.object({
  household: HouseholdSchema.nullable(),
  building: BuildingSchema.nullable(),
});
export type PersonHousehold = z.infer<typeof PersonHouseholdSchema>;

export const RegistryStatsQuerySchema = z.object({
  /** `grid`: also the counts of each grid in the subtree. */
  by: z.enum(['grid']).optional(),
});
export type RegistryStatsQuery = z.infer<typeof RegistryStatsQuerySchema>;

export const GridCountsSchema = z.object({
  gridCode: z.string(),
  gridName: z.string(),
  /** Active households and active people. */
  households: z.number().int(),
  people: z.number().int(),
});
export type GridCounts = z.infer<typeof GridCountsSchema>;

export const RegistryStatsSchema = z.object({
  regionCode: z.string(),
  households: z.number().int(),
  people: z.number().int(),
  /** Null when the caller may not read key-population tags; else only the tags they may see. */
  byTag: z.array(z.object({ kind: z.enum(personTagKindValues), count: z.number().int() })).nullable(),
  /** With `?by=grid`: each grid of the subtree, by code. */
  grids: z.array(GridCountsSchema).optional(),
});
export type RegistryStats = z.infer<typeof RegistryStatsSchema>;

export const gridSizingFlagValues = ['under', 'over', 'ok'] as const;

/**
 * The grid sizing check against the guidance of 300–500 households or 1000–1500 people (configurable). A grid
 * meets the guidance when EITHER measure is in its range; it is flagged only when BOTH are outside: `over` when
 * its households are above the range, else `under`.
 */
export const GridSizingSchema = z.object({
  regionCode: z.string(),
  guidance: z.object({
    householdsMin: z.number().int(),
    householdsMax: z.number().int(),
    peopleMin: z.number().int(),
    peopleMax: z.number().int(),
  }),
  /** Flagged grids first, then by code. */
  items: z.array(GridCountsSchema.extend({ flag: z.enum(gridSizingFlagValues) })),
});
export type GridSizing = z.infer<typeof GridSizingSchema>;

export const AuditReadsQuerySchema = z.object({
  actor: z.coerce.number().int().positive(),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type AuditReadsQuery = z.infer<typeof AuditReadsQuerySchema>;

export const AuditReadsSchema = z.object({
  items: z.array(
    z.object({
      at: z.string(),
      action: z.string(),
      objectType: z.string().nullable(),
      objectId: z.string().nullable(),
      requestId: z.string().nullable(),
      /** the reason given for a reveal or a revealing export (never the value revealed) */
      reason: z.string().nullable(),
    }),
  ),
});
export type AuditReads = z.infer<typeof AuditReadsSchema>;
