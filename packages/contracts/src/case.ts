import { z } from 'zod';

/** Lifecycle states (DOMAIN.md §4). */
export const caseStatusValues = [
  'reported', // 上报
  'verifying', // 核实
  'filed', // 立案
  'not_filed', // 不予立案
  'duplicate', // 重复 (merged into a parent case)
  'dispatched', // 派遣 / 交办
  'in_progress', // 处置中
  'suspended', // 挂起
  'responded', // 处置反馈
  'inspecting', // 核查
  'closed', // 结案 / 销号
  'evaluated', // 评价
] as const;
export const CaseStatusSchema = z.enum(caseStatusValues);
export type CaseStatus = z.infer<typeof CaseStatusSchema>;

/** States where the case is finished and no deadline applies. */
export const terminalCaseStatuses: readonly CaseStatus[] = ['not_filed', 'duplicate', 'closed', 'evaluated'];

export const caseChannelValues = [
  'grid_worker',
  'resident',
  'wish',
  'hotline',
  'department',
  'leader',
  'system',
] as const;
export const CaseChannelSchema = z.enum(caseChannelValues);
export type CaseChannel = z.infer<typeof CaseChannelSchema>;

/** 满意 / 基本满意 / 不满意 */
export const evaluationValues = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
export const EvaluationSchema = z.enum(evaluationValues);

/** 督办: normal, yellow card, red card */
export const supervisionValues = ['none', 'normal', 'yellow', 'red'] as const;
export const SupervisionSchema = z.enum(supervisionValues);

/** Command levels that can own a case, lowest first (小事一格解决、大事全网联动). */
export const caseLevelValues = ['grid', 'community', 'street', 'district', 'city'] as const;
export const CaseLevelSchema = z.enum(caseLevelValues);
export type CaseLevel = z.infer<typeof CaseLevelSchema>;
