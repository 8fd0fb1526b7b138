import { z } from 'zod';
import type { CaseChannel, CaseStatus, supervisionValues } from './case.ts';
import { CaseListQuerySchema } from './console.ts';

/**
 * The case export (案件导出): `GET /api/cases/export.csv` with the filters of the case list (`GET /api/cases`), the
 * whole result streamed as CSV (UTF-8 with a BOM, so Excel and WPS read the Chinese). It carries raw bytes, so like
 * the xlsx endpoints it is not in the typed JSON client (`client.ts`); the console links to it.
 */

export const caseExportLanguageValues = ['zh', 'en'] as const;
export type CaseExportLanguage = (typeof caseExportLanguageValues)[number];

/** `GET /api/cases/export.csv?region=&bbox=&categoryCode=&state=&status=&channel=&supervised=&from=&to=&q=&lang=` */
export const CaseExportQuerySchema = CaseListQuerySchema.omit({
  sort: true,
  limit: true,
  cursor: true,
}).extend({
  /** header and label language; default from Accept-Language, else Chinese */
  lang: z.enum(caseExportLanguageValues).optional(),
});
export type CaseExportQuery = z.infer<typeof CaseExportQuerySchema>;

type Label = { zh: string; en: string };

export const caseStatusLabels: Record<CaseStatus, Label> = {
  reported: { zh: '上报', en: 'Reported' },
  verifying: { zh: '核实中', en: 'Verifying' },
  filed: { zh: '已立案', en: 'Filed' },
  not_filed: { zh: '不予立案', en: 'Not filed' },
  duplicate: { zh: '重复', en: 'Duplicate' },
  dispatched: { zh: '已派遣', en: 'Dispatched' },
  in_progress: { zh: '处置中', en: 'In progress' },
  suspended: { zh: '挂起', en: 'Suspended' },
  responded: { zh: '已反馈', en: 'Responded' },
  inspecting: { zh: '核查中', en: 'Inspecting' },
  closed: { zh: '已结案', en: 'Closed' },
  evaluated: { zh: '已评价', en: 'Evaluated' },
};

export const caseChannelLabels: Record<CaseChannel, Label> = {
  grid_worker: { zh: '网格员上报', en: 'Grid worker' },
  resident: { zh: '居民随手拍', en: 'Resident' },
  wish: { zh: '微心愿', en: 'Wish' },
  hotline: { zh: '热线工单', en: 'Hotline' },
  department: { zh: '部门移交', en: 'Department' },
  leader: { zh: '领导交办', en: 'Leader' },
  system: { zh: '系统预警', en: 'System alert' },
};

export const supervisionLabels: Record<(typeof supervisionValues)[number], Label> = {
  none: { zh: '', en: '' },
  normal: { zh: '督办', en: 'Supervised' },
  yellow: { zh: '黄牌督办', en: 'Yellow card' },
  red: { zh: '红牌督办', en: 'Red card' },
};

export const yesNoLabels: Record<'yes' | 'no', Label> = {
  yes: { zh: '是', en: 'Yes' },
  no: { zh: '否', en: 'No' },
};

/** The columns of the export, in order (the header row). */
export const caseExportColumns = [
  { key: 'serial', zh: '案件编号', en: 'Serial' },
  { key: 'title', zh: '标题', en: 'Title' },
  { key: 'description', zh: '描述', en: 'Description' },
  { key: 'categoryClass', zh: '事项大类', en: 'Category' },
  { key: 'category', zh: '事项小类', en: 'Item' },
  { key: 'channel', zh: '来源渠道', en: 'Channel' },
  { key: 'status', zh: '状态', en: 'Status' },
  { key: 'urgent', zh: '紧急', en: 'Urgent' },
  { key: 'supervision', zh: '督办', en: 'Supervision' },
  { key: 'overdue', zh: '超期', en: 'Overdue' },
  { key: 'grid', zh: '所属网格', en: 'Grid' },
  { key: 'gridCode', zh: '网格编码', en: 'Grid code' },
  { key: 'address', zh: '地址', en: 'Address' },
  { key: 'lng', zh: '经度', en: 'Longitude' },
  { key: 'lat', zh: '纬度', en: 'Latitude' },
  { key: 'leadDepartment', zh: '牵头部门', en: 'Lead department' },
  { key: 'reporter', zh: '上报人', en: 'Reporter' },
  { key: 'reporterPhone', zh: '联系电话(脱敏)', en: 'Phone (masked)' },
  { key: 'reportedAt', zh: '上报时间', en: 'Reported at' },
  { key: 'dueAt', zh: '办理时限', en: 'Due at' },
  { key: 'closedAt', zh: '结案时间', en: 'Closed at' },
] as const;
export type CaseExportColumnKey = (typeof caseExportColumns)[number]['key'];
