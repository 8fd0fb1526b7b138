import { z } from 'zod';

/** Signed webhooks: endpoints registered by admins, deliveries from the outbox, one log row per attempt. */

/** Outbox topics (past tense) an endpoint may subscribe to, e.g. `case.created`, `alert.raised`. */
export const WebhookEventTypeSchema = z
  .string()
  .regex(/^[a-z][a-z_]*\.[a-z][a-z_]*$/, '形如 case.created (like case.created)');

export const CreateWebhookRequestSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  eventTypes: z.array(WebhookEventTypeSchema).min(1).max(50),
  /** Admin allow-list: permit loopback / private / link-local targets (e.g. an in-house receiver). */
  allowPrivate: z.boolean().optional(),
});
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequestSchema>;

export const WebhookEndpointSchema = z.object({
  id: z.number().int(),
  url: z.string(),
  eventTypes: z.array(z.string()),
  active: z.boolean(),
  allowPrivate: z.boolean(),
  failureCount: z.number().int(),
  pausedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

/** The creation answer: the only time the signing secret is shown. */
export const CreatedWebhookSchema = WebhookEndpointSchema.extend({ secret: z.string() });
export type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>;

export const WebhookListSchema = z.object({ items: z.array(WebhookEndpointSchema) });
export type WebhookList = z.infer<typeof WebhookListSchema>;

export const WebhookAttemptSchema = z.object({
  at: z.string(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});

export const WebhookDeliverySchema = z.object({
  id: z.number().int(),
  eventId: z.number().int(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  attemptLog: z.array(WebhookAttemptSchema),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const WebhookDeliveryListSchema = z.object({ items: z.array(WebhookDeliverySchema) });
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryListSchema>;
