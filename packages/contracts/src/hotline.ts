import { z } from 'zod';

/**
 * Hotline exchange (issue 8): 12345 / 96118 work orders (热线工单) imported as cases, the hotline's 6-digit
 * classification (诉求分类编码, GB/T 39666 style) mapped to taxonomy items, the triage queue (分拣) and the
 * results exported back.
 */

export const hotlineImportMaxBytes = 10 * 1024 * 1024;
export const hotlineImportMaxRows = 5000;

/** The hotline a work order comes from; work order numbers are unique per source. */
export const HotlineSourceSchema = z
  .string()
  .regex(/^[0-9A-Za-z_-]{1,32}$/, '来源格式不正确 (invalid source)');

export const ClassificationCodeSchema = z
  .string()
  .regex(/^\d{6}$/, '诉求分类编码为 6 位数字 (classification code: 6 digits)');

export const hotlineClassificationLevels = ['major', 'middle', 'minor'] as const;

export const HotlineClassificationSchema = z.object({
  code: z.string(),
  name: z.string(),
  /** major 大类 (XX0000), middle 中类 (XXYY00), minor 小类 */
  level: z.enum(hotlineClassificationLevels),
  /** The taxonomy item (4 digits) it maps to; null: unmapped (its orders go to triage unless a parent maps). */
  itemCode: z.string().nullable(),
  /** The item used after walking minor → middle → major; null when none maps. */
  effectiveItemCode: z.string().nullable(),
  updatedAt: z.string(),
});
export type HotlineClassification = z.infer<typeof HotlineClassificationSchema>;

export const HotlineClassificationListSchema = z.object({ items: z.array(HotlineClassificationSchema) });

export const HotlineClassificationParamsSchema = z.object({ code: ClassificationCodeSchema });

export const PutHotlineClassificationRequestSchema = z.object({
  name: z.string().trim().min(1, '必填 (required)').max(100),
  itemCode: z
    .string()
    .regex(/^\d{4}$/, '事项代码为 4 位数字 (item code: 4 digits)')
    .nullable(),
});
export type PutHotlineClassificationRequest = z.infer<typeof PutHotlineClassificationRequestSchema>;

/** One work order as the JSON endpoint takes it (the file columns by their Chinese headers map onto these). */
export const HotlineOrderRowSchema = z.object({
  /** 工单编号 */
  workOrderNumber: z.string().trim().min(1, '必填 (required)').max(64),
  /** 来电时间: ISO 8601 with offset, or `YYYY-MM-DD HH:mm[:ss]` in China time */
  callTime: z.string().trim().min(1, '必填 (required)'),
  /** 来电人 */
  callerName: z.string().trim().max(100).optional(),
  /** 来电号码 */
  callerPhone: z.string().trim().optional(),
  /** 诉求分类编码 */
  classificationCode: ClassificationCodeSchema,
  /** 诉求标题 */
  title: z.string().trim().max(200).optional(),
  /** 诉求内容 */
  content: z.string().max(5000).optional(),
  /** 事发地址 */
  address: z.string().trim().max(300).optional(),
  /** 经度 / 纬度 (WGS-84) */
  lng: z.coerce.number().min(-180).max(180).optional(),
  lat: z.coerce.number().min(-90).max(90).optional(),
  /** 紧急程度: 一般 / 紧急 (特急, 加急) */
  urgency: z.string().trim().max(20).optional(),
  /** 办理时限 */
  timeLimit: z.string().trim().optional(),
});
export type HotlineOrderRow = z.infer<typeof HotlineOrderRowSchema>;

/** The file columns: Chinese header → field of the JSON order. */
export const hotlineColumns = [
  { header: '工单编号', field: 'workOrderNumber', required: true },
  { header: '来电时间', field: 'callTime', required: true },
  { header: '来电人', field: 'callerName', required: false },
  { header: '来电号码', field: 'callerPhone', required: false },
  { header: '诉求分类编码', field: 'classificationCode', required: true },
  { header: '诉求标题', field: 'title', required: false },
  { header: '诉求内容', field: 'content', required: false },
  { header: '事发地址', field: 'address', required: false },
  { header: '经度', field: 'lng', required: false },
  { header: '纬度', field: 'lat', required: false },
  { header: '紧急程度', field: 'urgency', required: false },
  { header: '办理时限', field: 'timeLimit', required: false },
] as const satisfies readonly { header: string; field: keyof HotlineOrderRow; required: boolean }[];

export const HotlineImportQuerySchema = z.object({
  clientId: z.uuid(),
  /** 12345 (default) or 96118 … */
  source: HotlineSourceSchema.default('12345'),
});

export const HotlineJsonImportSchema = z.object({
  orders: z.array(z.record(z.string(), z.unknown())).min(1).max(hotlineImportMaxRows),
});

export const hotlineTriageReasons = ['unmapped_classification', 'no_location', 'invalid'] as const;
export const HotlineTriageReasonSchema = z.enum(hotlineTriageReasons);

export const HotlineImportResultSchema = z.object({
  id: z.number().int(),
  total: z.number().int(),
  created: z.number().int(),
  /** Already imported (by anyone): nothing created twice. */
  duplicates: z.number().int(),
  triaged: z.array(
    z.object({
      /** Row of the sheet (2 = first data row) or 1-based index of the JSON order. */
      row: z.number().int(),
      workOrderNumber: z.string().nullable(),
      reason: HotlineTriageReasonSchema,
      message: z.string(),
    }),
  ),
});
export type HotlineImportResult = z.infer<typeof HotlineImportResultSchema>;

export const HotlineTriageStatusSchema = z.enum(['open', 'resolved', 'rejected']);

export const HotlineTriageQuerySchema = z.object({
  status: HotlineTriageStatusSchema.default('open'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const HotlineTriageItemSchema = z.object({
  id: z.number().int(),
  source: z.string(),
  workOrderNumber: z.string().nullable(),
  row: z.number().int().nullable(),
  reason: HotlineTriageReasonSchema,
  message: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })),
  /** The order as read; the caller's phone only masked. */
  order: z.object({
    callTime: z.string().nullable(),
    callerName: z.string().nullable(),
    callerPhoneMasked: z.string().nullable(),
    classificationCode: z.string().nullable(),
    title: z.string().nullable(),
    content: z.string().nullable(),
    address: z.string().nullable(),
    lng: z.number().nullable(),
    lat: z.number().nullable(),
    urgent: z.boolean(),
    timeLimit: z.string().nullable(),
  }),
  status: HotlineTriageStatusSchema,
  caseId: z.number().int().nullable(),
  rejectReason: z.string().nullable(),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
});
export type HotlineTriageItem = z.infer<typeof HotlineTriageItemSchema>;

export const HotlineTriageListSchema = z.object({ items: z.array(HotlineTriageItemSchema) });

export const HotlineTriageParamsSchema = z.object({ id: z.coerce.number().int().positive() });

export const ResolveHotlineTriageRequestSchema = z.object({
  categoryCode: z.string().regex(/^\d{4}$/, '事项代码为 4 位数字 (item code: 4 digits)'),
  location: z.object({ lng: z.number().min(-180).max(180), lat: z.number().min(-90).max(90) }).optional(),
  gridCode: z
    .string()
    .regex(/^\d{15}$/, '网格代码为 15 位数字 (grid code: 15 digits)')
    .optional(),
});
export type ResolveHotlineTriageRequest = z.infer<typeof ResolveHotlineTriageRequestSchema>;

export const RejectHotlineTriageRequestSchema = z.object({
  reason: z.string().trim().min(1, '必填 (required)').max(500),
});

export const HotlineResolvedSchema = z.object({
  id: z.number().int(),
  status: HotlineTriageStatusSchema,
  caseId: z.number().int().nullable(),
  serial: z.string().nullable(),
});
export type HotlineResolved = z.infer<typeof HotlineResolvedSchema>;

export const HotlineResultsQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
});

export const HotlineResultsParamsSchema = z.object({ format: z.enum(['xlsx', 'csv']) });

/** The columns of the results file sent back to the hotline. */
export const hotlineResultHeaders = [
  '工单编号',
  '办理状态',
  '承办部门',
  '答复内容',
  '受理时间',
  '办结时间',
  '满意度',
] as const;
