/** Interoperability (issue 8): signed webhooks so far. */
export { registerWebhookRoutes } from './webhook.routes.ts';
export {
  deliverWebhooks,
  signWebhook,
  verifyWebhookSignature,
  webhookBackoffMs,
  signatureToleranceSeconds,
} from './webhook.deliver.ts';
export { isBlockedAddress, urlProblem } from './webhook.guard.ts';
export { registerOpen311Routes, open311PublicRoutes } from './open311.routes.ts';
export { registerHotlineRoutes } from './hotline.routes.ts';
export { ensureDefaultHotlineClassifications } from './hotline.service.ts';
