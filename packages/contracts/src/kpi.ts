import { z } from 'zod';
import { RegionCodeSchema } from './common.ts';

/** Dimensions a KPI report can be broken down by. */
export const kpiDimensionValues = ['category', 'department', 'grid', 'channel'] as const;
export const KpiDimensionSchema = z.enum(kpiDimensionValues);
export type KpiDimension = z.infer<typeof KpiDimensionSchema>;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式 YYYY-MM-DD (date as YYYY-MM-DD)')
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: '日期无效 (invalid date)',
    },
  );

/** Longest period a report may cover, in days (a little over three years). */
export const kpiMaxPeriodDays = 1100;

/** `GET /api/kpis?region=&from=&to=[&by=]`: the period is [from, to) in China dates (UTC+8). */
export const KpiQuerySchema = z
  .object({
    region: RegionCodeSchema,
    from: isoDate,
    to: isoDate,
    by: KpiDimensionSchema.optional(),
  })
  .refine((q) => q.from < q.to, { message: 'to 必须晚于 from (to must be after from)', path: ['to'] })
  .refine(
    (q) =>
      Date.parse(`${q.to}T00:00:00Z`) - Date.parse(`${q.from}T00:00:00Z`) <= kpiMaxPeriodDays * 86_400_000,
    { message: `期间最长 ${kpiMaxPeriodDays} 天 (period at most ${kpiMaxPeriodDays} days)`, path: ['to'] },
  );
export type KpiQuery = z.infer<typeof KpiQuerySchema>;

/** A rate with the raw figures beside it, so it can be checked by hand; value is null when nothing is counted. */
export const KpiRateSchema = z.object({
  value: z.number().nullable(),
  numerator: z.number().int(),
  denominator: z.number().int(),
});
export type KpiRate = z.infer<typeof KpiRateSchema>;

export const KpiCountsSchema = z.object({
  /** 受理: reported in the period, duplicates (重复, merged into a parent) left out */
  accepted: z.number().int(),
  /** 立案: reached 'filed' at any time (fix-on-the-spot cases included) */
  filed: z.number().int(),
  notFiled: z.number().int(),
  duplicates: z.number().int(),
  /** 办结: closed or evaluated now */
  resolved: z.number().int(),
  /** 应结案: filed cases whose handling deadline fell in the period, or that were closed in it */
  dueToClose: z.number().int(),
  closed: z.number().int(),
  closedOnTime: z.number().int(),
  responded: z.number().int(),
  reworked: z.number().int(),
  rated: z.number().int(),
  satisfied: z.number().int(),
  basicallySatisfied: z.number().int(),
  dissatisfied: z.number().int(),
  /** open now (not terminal) */
  open: z.number().int(),
  /** open now and overdue now (any report date) */
  overdueNow: z.number().int(),
});
export type KpiCounts = z.infer<typeof KpiCountsSchema>;

export const KpiRatesSchema = z.object({
  filingRate: KpiRateSchema,
  resolutionRate: KpiRateSchema,
  closureRate: KpiRateSchema,
  onTimeClosureRate: KpiRateSchema,
  reworkRate: KpiRateSchema,
  satisfactionRate: KpiRateSchema,
});
export type KpiRates = z.infer<typeof KpiRatesSchema>;

export const KpiFiguresSchema = z.object({ counts: KpiCountsSchema, rates: KpiRatesSchema });
export type KpiFigures = z.infer<typeof KpiFiguresSchema>;

export const KpiGroupSchema = KpiFiguresSchema.extend({
  /** category code, department id, grid code or channel; null for "none" (e.g. not dispatched) */
  key: z.string().nullable(),
  name: z.string().nullable(),
  /** department composite score 0–100 (department breakdown only); null when no component has data */
  score: z.number().nullable().optional(),
});
export type KpiGroup = z.infer<typeof KpiGroupSchema>;

export const KpiReportSchema = KpiFiguresSchema.extend({
  region: z.object({ code: z.string(), name: z.string(), level: z.string() }),
  from: z.string(),
  to: z.string(),
  asOf: z.string(),
  by: KpiDimensionSchema.nullable(),
  groups: z.array(KpiGroupSchema),
});
export type KpiReport = z.infer<typeof KpiReportSchema>;

/** Weights of the department composite score (综合评分); documented in docs/domain/kpis.md. */
export const departmentScoreWeights = {
  closureRate: 0.3,
  onTimeClosureRate: 0.3,
  reworkRate: 0.2,
  satisfactionRate: 0.2,
} as const;
