import { z } from 'zod';

/**
 * Open311 GeoReport v2 (issue 8). The /open311/v2 API itself speaks the standard's form-encoded requests and
 * XML/JSON answers; these are the Wangge-side admin contracts: client apps and the public flag of a case.
 */
export const CreateOpen311ClientRequestSchema = z.object({
  name: z.string().trim().min(1, '必填 (required)').max(100),
  /** A department system: its status updates act as this department (报到, 处置反馈). */
  departmentId: z.number().int().positive().optional(),
});
export type CreateOpen311ClientRequest = z.infer<typeof CreateOpen311ClientRequestSchema>;

export const Open311ClientSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  departmentId: z.number().int().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type Open311Client = z.infer<typeof Open311ClientSchema>;

/** The api_key is returned here once and never again. */
export const CreatedOpen311ClientSchema = Open311ClientSchema.extend({ apiKey: z.string() });
export type CreatedOpen311Client = z.infer<typeof CreatedOpen311ClientSchema>;

export const Open311ClientListSchema = z.object({ items: z.array(Open311ClientSchema) });

export const SetCasePublicRequestSchema = z.object({ public: z.boolean() });
export type SetCasePublicRequest = z.infer<typeof SetCasePublicRequestSchema>;

export const CasePublicSchema = z.object({ id: z.number().int(), public: z.boolean() });
export type CasePublic = z.infer<typeof CasePublicSchema>;
