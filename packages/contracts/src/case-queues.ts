import { z } from 'zod';
import { CaseChannelSchema, CaseStatusSchema, SupervisionSchema } from './case.ts';
import { pageLimits } from './common.ts';

/** "My work" buckets; which ones an actor sees depends on their roles. */
export const queueBucketValues = [
  'to_inspect',
  'reported_in_my_grids',
  'my_reports',
  'to_verify',
  'to_file',
  'to_dispatch',
  'overdue',
  'awaiting_accept',
  'in_progress',
  'supervised',
  'instructed',
] as const;
export const QueueBucketSchema = z.enum(queueBucketValues);
export type QueueBucket = z.infer<typeof QueueBucketSchema>;

export const QueueQuerySchema = z.object({
  bucket: QueueBucketSchema.optional(),
  /** Serial prefix, or text in the title or description. */
  q: z.string().trim().min(1).max(100).optional(),
  categoryCode: z
    .string()
    .regex(/^\d{2}(\d{2})?$/)
    .optional(),
  urgent: z.enum(['1', '0', 'true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(pageLimits.max).default(pageLimits.default),
  cursor: z.string().max(200).optional(),
});
export type QueueQuery = z.infer<typeof QueueQuerySchema>;

export const QueueItemSchema = z.object({
  id: z.number().int(),
  serial: z.string(),
  title: z.string(),
  status: CaseStatusSchema,
  channel: CaseChannelSchema,
  categoryCode: z.string(),
  urgent: z.boolean(),
  supervision: SupervisionSchema,
  gridCode: z.string(),
  gridName: z.string(),
  ownerRegionCode: z.string(),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  reportedAt: z.string(),
});
export type QueueItem = z.infer<typeof QueueItemSchema>;

export const QueueResponseSchema = z.object({
  buckets: z.array(
    z.object({ key: QueueBucketSchema, label_zh: z.string(), label_en: z.string(), count: z.number().int() }),
  ),
  bucket: QueueBucketSchema.nullable(),
  items: z.array(QueueItemSchema),
  nextCursor: z.string().nullable(),
});
export type QueueResponse = z.infer<typeof QueueResponseSchema>;

export const NotificationQuerySchema = z.object({
  unread: z.enum(['1', '0', 'true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(pageLimits.max).default(pageLimits.default),
  cursor: z.string().max(40).optional(),
});

export const NotificationSchema = z.object({
  id: z.number().int(),
  kind: z.string(),
  caseId: z.number().int().nullable(),
  title: z.string(),
  body: z.string(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const NotificationListSchema = z.object({
  items: z.array(NotificationSchema),
  unreadCount: z.number().int(),
  nextCursor: z.string().nullable(),
});
