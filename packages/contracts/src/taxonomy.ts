import { z } from 'zod';
import { RegionCodeSchema } from './common.ts';

/** Case taxonomy (事件分类): category (2 digits) → item (4 digits), with limits, fields and default departments. */

export const extraFieldTypeValues = ['string', 'number', 'date', 'single', 'multi'] as const;

export const StageLimitsSchema = z.object({
  /** Clock hours for a department to accept (报到) a dispatch. */
  acceptHours: z.number().positive().max(720),
  /** Working days to handle. */
  handleWorkingDays: z.number().int().min(0).max(365),
  /** Working days to inspect (核查). */
  inspectWorkingDays: z.number().int().min(0).max(365),
});
export type StageLimitsValue = z.infer<typeof StageLimitsSchema>;

/** Per command level overrides of the limits. */
export const LimitsByLevelSchema = z.partialRecord(
  z.enum(['grid', 'community', 'street', 'district', 'city']),
  StageLimitsSchema.partial(),
);

const FieldCodeSchema = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9_]{0,39}$/, '字母开头的字母数字 (letters and digits)');

export const ExtraFieldSchema = z.object({
  code: FieldCodeSchema,
  type: z.enum(extraFieldTypeValues),
  zh: z.string().trim().min(1).max(50),
  en: z.string().trim().min(1).max(80).optional(),
  required: z.boolean().optional(),
  /** Choices of a single or multi field. */
  options: z
    .array(
      z.object({
        value: z.string().min(1).max(40),
        zh: z.string().trim().min(1).max(50),
        en: z.string().trim().min(1).max(80).optional(),
      }),
    )
    .max(50)
    .optional(),
});
export type ExtraFieldValue = z.infer<typeof ExtraFieldSchema>;

export const ItemCodeSchema = z.string().regex(/^\d{4}$/, '事项代码为 4 位数字 (4 digits)');
export const CategoryCodeSchema = z.string().regex(/^\d{2}$/, '类别代码为 2 位数字 (2 digits)');

export const DepartmentKeySchema = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'department code');

export const TaxonomyItemSchema = z.object({
  code: z.string(),
  parentCode: z.string(),
  nameZh: z.string(),
  nameEn: z.string(),
  departmentKey: z.string().nullable(),
  fixOnSpot: z.boolean(),
  limits: StageLimitsSchema,
  limitsByLevel: z.record(z.string(), StageLimitsSchema.partial()),
  fields: z.array(ExtraFieldSchema),
  active: z.boolean(),
});
export type TaxonomyItem = z.infer<typeof TaxonomyItemSchema>;

export const DepartmentRuleSchema = z.object({
  regionCode: z.string(),
  regionPath: z.string(),
  departmentId: z.number().int(),
  departmentCode: z.string(),
  departmentName: z.string(),
});

export const TaxonomyTreeSchema = z.object({
  categories: z.array(
    z.object({
      code: z.string(),
      nameZh: z.string(),
      nameEn: z.string(),
      active: z.boolean(),
      items: z.array(TaxonomyItemSchema.extend({ rules: z.array(DepartmentRuleSchema).optional() })),
    }),
  ),
});
export type TaxonomyTree = z.infer<typeof TaxonomyTreeSchema>;

export const TaxonomyQuerySchema = z.object({
  /** `all=1`: include inactive categories and items and the department rules (taxonomy admins only). */
  all: z.enum(['0', '1']).optional(),
});

const NameZhSchema = z.string().trim().min(1, '请输入名称 (required)').max(50);
const NameEnSchema = z.string().trim().min(1, 'required').max(100);

export const CreateTaxonomyItemRequestSchema = z.object({
  code: ItemCodeSchema,
  parentCode: CategoryCodeSchema,
  nameZh: NameZhSchema,
  nameEn: NameEnSchema,
  departmentKey: DepartmentKeySchema.nullish(),
  fixOnSpot: z.boolean().default(false),
  limits: StageLimitsSchema,
  limitsByLevel: LimitsByLevelSchema.optional(),
  fields: z.array(ExtraFieldSchema).max(30).optional(),
  active: z.boolean().optional(),
});
export type CreateTaxonomyItemRequest = z.infer<typeof CreateTaxonomyItemRequestSchema>;

export const UpdateTaxonomyItemRequestSchema = z
  .object({
    nameZh: NameZhSchema,
    nameEn: NameEnSchema,
    departmentKey: DepartmentKeySchema.nullable(),
    fixOnSpot: z.boolean(),
    limits: StageLimitsSchema.partial(),
    limitsByLevel: LimitsByLevelSchema,
    fields: z.array(ExtraFieldSchema).max(30),
    active: z.boolean(),
  })
  .partial();
export type UpdateTaxonomyItemRequest = z.infer<typeof UpdateTaxonomyItemRequestSchema>;

export const PutDepartmentRulesRequestSchema = z.object({
  rules: z
    .array(z.object({ regionCode: RegionCodeSchema, departmentId: z.number().int().positive() }))
    .max(500),
});
export type PutDepartmentRulesRequest = z.infer<typeof PutDepartmentRulesRequestSchema>;

export const DepartmentRulesSchema = z.object({ itemCode: z.string(), rules: z.array(DepartmentRuleSchema) });
