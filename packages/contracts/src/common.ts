import { z } from 'zod';

export const ErrorResponseSchema = z.object({
  code: z.string(),
  message: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  details: z.unknown().optional(),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** Lists are paged with a capped limit and an opaque cursor. */
export const pageLimits = { default: 50, max: 200 } as const;
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(pageLimits.max).default(pageLimits.default),
  cursor: z.string().max(200).optional(),
});

export const RegionCodeSchema = z
  .string()
  .regex(/^\d{6}(\d{3}){0,4}$/, '区域代码为 6、9、12、15 或 18 位数字 (6/9/12/15/18 digits)');
