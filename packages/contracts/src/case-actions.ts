import { z } from 'zod';
import {
  CaseChannelSchema,
  CaseLevelSchema,
  CaseStatusSchema,
  EvaluationSchema,
  SupervisionSchema,
} from './case.ts';

/**
 * Workflow verbs on a case (POST /api/cases/{id}/actions/{action}). The server's transition table
 * (apps/server/src/modules/case/case.workflow.ts) says from which states, by whom and with which guard.
 */
export const caseActionValues = [
  'verify', // 核实
  'file', // 立案
  'notFile', // 不予立案
  'mergeDuplicate', // 合并重复
  'fixOnSpot', // 简易程序: fixed and closed on the spot
  'escalate', // 上报 (to the next level up, skip-level where allowed)
  'dispatch', // 派遣 / 吹哨: lead department, co-handling (协办) and cc (抄告)
  'accept', // 报到: the lead department accepts
  'returnCase', // 回退 / 退单: not ours
  'suspend', // 挂起
  'resume', // 恢复
  'requestExtension', // 申请延期
  'approveExtension', // 批准延期
  'rejectExtension', // 驳回延期
  'respond', // 处置反馈
  'startInspection', // 开始核查
  'inspect', // 核查: pass → close, fail → rework (返工)
  'evaluate', // 评价
  'reopen', // 不满意重办
  'supervise', // 督办
  'instruct', // 领导批示
  'markUrgent', // 加急
] as const;
export const CaseActionSchema = z.enum(caseActionValues);
export type CaseAction = z.infer<typeof CaseActionSchema>;

const text = (max: number) => z.string().trim().min(1, '必填 (required)').max(max);
/** Maximum photos attached to one step. */
export const caseActionAttachmentsMax = 10;
/** Photo ids (case_photo) of this case, uploaded before the step (POST /api/cases/{id}/photos). */
const Attachments = z
  .array(z.number().int().positive())
  .max(
    caseActionAttachmentsMax,
    `最多 ${caseActionAttachmentsMax} 张照片 (at most ${caseActionAttachmentsMax} photos)`,
  )
  .optional();
const Comment = z.string().trim().max(2000).optional();
const DepartmentId = z.number().int().positive();

const Base = z.object({ comment: Comment, attachments: Attachments });
const WithReason = Base.extend({ reason: text(500) });

export const caseActionInputSchemas = {
  verify: Base,
  file: Base.extend({
    categoryCode: z
      .string()
      .regex(/^\d{4}$/, '事项代码为 4 位数字 (a 4-digit item code)')
      .optional(),
  }),
  notFile: WithReason,
  mergeDuplicate: Base.extend({ parentCaseId: z.number().int().positive() }),
  fixOnSpot: Base.extend({ result: text(2000) }),
  escalate: WithReason.extend({ skipLevel: z.boolean().default(false) }),
  dispatch: Base.extend({
    /** The lead department (主办); when absent, the item's default department for the place. */
    leadDepartmentId: DepartmentId.optional(),
    coDepartmentIds: z.array(DepartmentId).max(10).default([]),
    ccDepartmentIds: z.array(DepartmentId).max(10).default([]),
  }).refine(
    (v) =>
      new Set([
        ...v.coDepartmentIds,
        ...v.ccDepartmentIds,
        ...(v.leadDepartmentId ? [v.leadDepartmentId] : []),
      ]).size ===
      (v.leadDepartmentId ? 1 : 0) + v.coDepartmentIds.length + v.ccDepartmentIds.length,
    { message: '部门重复 (a department appears twice)', path: ['coDepartmentIds'] },
  ),
  accept: Base,
  returnCase: WithReason,
  suspend: WithReason,
  resume: Base,
  requestExtension: WithReason.extend({ days: z.number().int().min(1).max(30) }),
  approveExtension: Base,
  rejectExtension: WithReason,
  respond: Base.extend({ result: text(2000) }),
  startInspection: Base,
  inspect: Base.extend({ result: z.enum(['pass', 'fail']) }).refine(
    (v) => v.result === 'pass' || (v.comment !== undefined && v.comment.length > 0),
    { message: '核查不通过须说明原因 (a failed inspection needs a comment)', path: ['comment'] },
  ),
  evaluate: Base.extend({
    evaluation: EvaluationSchema,
    /** self: the reporter rates; callback: an operator records the reporter's rating by phone (回访). */
    method: z.enum(['self', 'callback']).optional(),
  }),
  reopen: WithReason,
  supervise: Base.extend({ level: SupervisionSchema.exclude(['none']) }),
  instruct: Base.extend({ comment: text(2000) }),
  markUrgent: Base,
} as const satisfies Record<CaseAction, z.ZodType>;

export type CaseActionInput<A extends CaseAction> = z.infer<(typeof caseActionInputSchemas)[A]>;

export const CaseIdParamsSchema = z.object({ id: z.coerce.number().int().positive() });
export const CaseActionParamsSchema = z.object({
  id: z.coerce.number().int().positive(),
  action: z.string().max(40),
});

/** Body envelope of an action: the action's own fields plus an optional optimistic-lock version. */
export const CaseActionEnvelopeSchema = z.looseObject({
  expectedVersion: z.number().int().min(0).optional(),
});

const Iso = z.string();

export const CaseDetailSchema = z.object({
  id: z.number().int(),
  serial: z.string(),
  title: z.string(),
  description: z.string(),
  category: z.object({ code: z.string(), nameZh: z.string(), nameEn: z.string() }),
  status: CaseStatusSchema,
  channel: CaseChannelSchema,
  urgent: z.boolean(),
  supervision: SupervisionSchema,
  instructed: z.boolean(),
  extensionRequested: z.boolean(),
  grid: z.object({ code: z.string(), name: z.string() }),
  owner: z.object({ regionCode: z.string(), name: z.string(), level: CaseLevelSchema }),
  leadDepartment: z.object({ id: z.number().int(), name: z.string() }).nullable(),
  departments: z.array(
    z.object({
      id: z.number().int(),
      name: z.string(),
      role: z.enum(['lead', 'co', 'cc']),
      status: z.enum(['pending', 'accepted', 'returned', 'responded']),
    }),
  ),
  parentCaseId: z.number().int().nullable(),
  due: z.object({
    accept: Iso.nullable(),
    handle: Iso.nullable(),
    inspect: Iso.nullable(),
    current: Iso.nullable(),
    beyondCalendar: z.boolean(),
  }),
  overdue: z.boolean(),
  location: z.tuple([z.number(), z.number()]).nullable(),
  address: z.string().nullable(),
  evaluation: EvaluationSchema.nullable(),
  reworkCount: z.number().int(),
  /** Never the full name or contact: a masked form only. */
  reporter: z.object({ anonymous: z.boolean(), name: z.string().nullable(), contact: z.string().nullable() }),
  /** A hotline work order (12345 / 96118): its number and the caller, masked. */
  hotline: z
    .object({
      workOrderNumber: z.string().nullable(),
      callerName: z.string().nullable(),
      callerPhoneMasked: z.string().nullable(),
      callTime: z.string().nullable(),
    })
    .nullable(),
  reportedAt: Iso,
  filedAt: Iso.nullable(),
  closedAt: Iso.nullable(),
  version: z.number().int(),
  allowedActions: z.array(CaseActionSchema),
});
export type CaseDetail = z.infer<typeof CaseDetailSchema>;

/** A photo attached to a timeline step; the bytes are at GET /api/cases/{id}/photos/{photoId}. */
export const CaseTimelineAttachmentSchema = z.object({
  photoId: z.number().int(),
  contentType: z.string(),
});
export type CaseTimelineAttachment = z.infer<typeof CaseTimelineAttachmentSchema>;

export const CaseTimelineEntrySchema = z.object({
  id: z.number().int(),
  at: Iso,
  actor: z.object({ id: z.number().int(), name: z.string() }).nullable(),
  role: z.string().nullable(),
  action: z.string(),
  fromStatus: CaseStatusSchema.nullable(),
  toStatus: CaseStatusSchema.nullable(),
  comment: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  attachments: z.array(CaseTimelineAttachmentSchema),
});
export const CaseTimelineSchema = z.object({ items: z.array(CaseTimelineEntrySchema) });
export type CaseTimelineEntry = z.infer<typeof CaseTimelineEntrySchema>;
