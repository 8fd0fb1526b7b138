import { z } from 'zod';
import { CaseChannelSchema, CaseStatusSchema, SupervisionSchema } from './case.ts';
import { RegionCodeSchema } from './common.ts';
import { RoleSchema } from './identity.ts';
import { RegionLevelSchema } from './region.ts';

/**
 * Read models and admin requests the command-centre console needs (issue 4): region views, case points for the
 * map, duplicate hints, dispatch preview, departments, user administration, KPI trend and the realtime stream.
 */

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式 YYYY-MM-DD (date as YYYY-MM-DD)');
const boolFlag = z.enum(['1', '0', 'true', 'false']);
const CategoryFilter = z.string().regex(/^\d{2}(\d{2})?$/, '分类代码为 2 或 4 位数字 (2 or 4 digits)');

// ---------------------------------------------------------------------------------------------------------------
// Regions

/** `GET /api/regions/{code}`, items of `/children` and `/search`. */
export const RegionViewSchema = z.object({
  code: z.string(),
  level: RegionLevelSchema,
  name: z.string(),
  parent: z.string().nullable(),
  path: z.string(),
  /** [lng, lat] of the current boundary's point on surface; null when the region has no boundary */
  centroid: z.tuple([z.number(), z.number()]).nullable(),
});
export type RegionView = z.infer<typeof RegionViewSchema>;
export const RegionListSchema = z.object({ items: z.array(RegionViewSchema) });

/** `GET /api/regions/{code}/stats`. */
export const RegionStatsSchema = z.object({
  region: z.object({ code: z.string(), level: RegionLevelSchema, name: z.string() }),
  counts: z.object({
    children: z.number().int(),
    grids: z.number().int(),
    microgrids: z.number().int(),
    workers: z.number().int(),
    users: z.number().int(),
    usersByRole: z.record(z.string(), z.number().int()),
    openCases: z.number().int(),
    overdueCases: z.number().int(),
  }),
});
export type RegionStats = z.infer<typeof RegionStatsSchema>;

/** `GET /api/regions/{code}/children/stats`: one row per child, for colouring the map (专题图). */
export const RegionChildStatsSchema = z.object({
  items: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      level: RegionLevelSchema,
      centroid: z.tuple([z.number(), z.number()]).nullable(),
      openCases: z.number().int(),
      overdueCases: z.number().int(),
    }),
  ),
});
export type RegionChildStats = z.infer<typeof RegionChildStatsSchema>;

/** `GET /api/regions/search?q=&limit=`: regions in the caller's scope whose name or code matches. */
export const RegionSearchQuerySchema = z.object({
  q: z.string().trim().min(1).max(50),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

// ---------------------------------------------------------------------------------------------------------------
// Cases on the map, duplicate hints, dispatch preview

export const caseStateFilterValues = ['open', 'overdue', 'closed', 'all'] as const;

/** `GET /api/cases?region=&bbox=&categoryCode=&state=&status=&channel=&from=&to=&q=&limit=&cursor=` */
export const CaseListQuerySchema = z.object({
  /** the subtree to search (default: the caller's whole scope) */
  region: RegionCodeSchema.optional(),
  /** west,south,east,north in WGS-84 */
  bbox: z
    .string()
    .regex(/^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$/, 'bbox = 西,南,东,北 (west,south,east,north)')
    .optional(),
  categoryCode: CategoryFilter.optional(),
  state: z.enum(caseStateFilterValues).default('open'),
  status: CaseStatusSchema.optional(),
  channel: CaseChannelSchema.optional(),
  supervised: boolFlag.optional(),
  /** reported on or after this China date */
  from: isoDate.optional(),
  /** reported before this China date */
  to: isoDate.optional(),
  q: z.string().trim().min(1).max(100).optional(),
  /** `due`: earliest due first (the overdue list); default newest reported first */
  sort: z.enum(['reported', 'due']).default('reported'),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
  cursor: z.string().max(200).optional(),
});
export type CaseListQuery = z.infer<typeof CaseListQuerySchema>;

export const CaseListItemSchema = z.object({
  id: z.number().int(),
  serial: z.string(),
  title: z.string(),
  status: CaseStatusSchema,
  channel: CaseChannelSchema,
  categoryCode: z.string(),
  urgent: z.boolean(),
  supervision: SupervisionSchema,
  overdue: z.boolean(),
  dueAt: z.string().nullable(),
  gridCode: z.string(),
  gridName: z.string(),
  ownerRegionCode: z.string(),
  leadDepartment: z.string().nullable(),
  /** [lng, lat] WGS-84; null when the case has no point */
  point: z.tuple([z.number(), z.number()]).nullable(),
  reportedAt: z.string(),
});
export type CaseListItem = z.infer<typeof CaseListItemSchema>;
export const CaseListSchema = z.object({
  items: z.array(CaseListItemSchema),
  /** total matching rows, capped at 10 000 (`totalCapped` true when there are more) */
  total: z.number().int(),
  totalCapped: z.boolean(),
  nextCursor: z.string().nullable(),
});
export type CaseList = z.infer<typeof CaseListSchema>;

/** `GET /api/cases/nearby?categoryCode=&lng=&lat=&radius=&days=`: duplicate hints before saving a new case. */
export const NearbyCasesQuerySchema = z.object({
  categoryCode: CategoryFilter,
  lng: z.coerce.number().min(-180).max(180),
  lat: z.coerce.number().min(-90).max(90),
  crs: z.enum(['wgs84', 'cgcs2000', 'gcj02']).default('wgs84'),
  /** metres */
  radius: z.coerce.number().int().min(10).max(2000).default(200),
  days: z.coerce.number().int().min(1).max(90).default(7),
});
export const NearbyCasesSchema = z.object({
  items: z.array(
    z.object({
      id: z.number().int(),
      serial: z.string(),
      title: z.string(),
      status: CaseStatusSchema,
      categoryCode: z.string(),
      distanceM: z.number(),
      reportedAt: z.string(),
    }),
  ),
});
export type NearbyCases = z.infer<typeof NearbyCasesSchema>;

/**
 * `GET /api/cases/{id}/dispatch-preview?departmentId=`: the departments the caller may dispatch this case to
 * (default one first, from the category's rules) and the deadlines the case will get if dispatched now.
 */
export const DispatchPreviewQuerySchema = z.object({
  departmentId: z.coerce.number().int().positive().optional(),
});
export const DispatchPreviewSchema = z.object({
  defaultDepartmentId: z.number().int().nullable(),
  departments: z.array(z.object({ id: z.number().int(), code: z.string(), name: z.string() })),
  acceptDueAt: z.string(),
  handleDueAt: z.string(),
  limits: z.object({ acceptHours: z.number(), handleWorkingDays: z.number() }),
});
export type DispatchPreview = z.infer<typeof DispatchPreviewSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Departments

export const DepartmentSchema = z.object({
  id: z.number().int(),
  code: z.string(),
  name: z.string(),
  nameEn: z.string().nullable(),
  regionCode: z.string(),
  regionName: z.string(),
  handlers: z.number().int(),
});
export type Department = z.infer<typeof DepartmentSchema>;
export const DepartmentListSchema = z.object({ items: z.array(DepartmentSchema) });
export const DepartmentListQuerySchema = z.object({ region: RegionCodeSchema.optional() });
export const CreateDepartmentRequestSchema = z.object({
  code: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{1,39}$/, '代码为小写字母、数字、- 或 _ (lowercase letters, digits, - or _)'),
  name: z.string().trim().min(1, '必填 (required)').max(64),
  nameEn: z.string().trim().max(64).nullish(),
  regionCode: RegionCodeSchema,
});
export type CreateDepartmentRequest = z.infer<typeof CreateDepartmentRequestSchema>;
export const UpdateDepartmentRequestSchema = z.object({
  name: z.string().trim().min(1, '必填 (required)').max(64).optional(),
  nameEn: z.string().trim().max(64).nullish(),
});

// ---------------------------------------------------------------------------------------------------------------
// Users (admin)

/** `PATCH /api/users/{id}`: rename, disable/enable, replace grants, or reset the password (must change at login). */
export const UpdateUserRequestSchema = z.object({
  displayName: z.string().trim().min(1).max(64).optional(),
  status: z.enum(['active', 'disabled']).optional(),
  grants: z
    .array(
      z.object({
        role: RoleSchema,
        regionCode: RegionCodeSchema.nullish(),
        departmentId: z.number().int().positive().nullish(),
        specialty: z.string().max(40).nullish(),
      }),
    )
    .min(1)
    .max(50)
    .optional(),
  resetPassword: z.string().min(8, '至少 8 个字符 (at least 8 characters)').max(256).optional(),
});
export type UpdateUserRequest = z.infer<typeof UpdateUserRequestSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Cockpit

/** `GET /api/kpis/trend?region=&from=&to=&interval=`: counts per day / week / month in China time. */
export const KpiTrendQuerySchema = z.object({
  region: RegionCodeSchema,
  from: isoDate,
  to: isoDate,
  interval: z.enum(['day', 'week', 'month']).default('day'),
});
export const KpiTrendSchema = z.object({
  interval: z.enum(['day', 'week', 'month']),
  points: z.array(
    z.object({
      /** first China date of the bucket */
      bucket: z.string(),
      reported: z.number().int(),
      closed: z.number().int(),
      /** cases that became overdue in the bucket */
      overdue: z.number().int(),
    }),
  ),
});
export type KpiTrend = z.infer<typeof KpiTrendSchema>;

/** `GET /api/kpis/grid-heat?region=&from=&to=`: reported cases per grid with the grid's point, for the heat map. */
export const GridHeatSchema = z.object({
  items: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      point: z.tuple([z.number(), z.number()]),
      reported: z.number().int(),
      open: z.number().int(),
      overdue: z.number().int(),
    }),
  ),
});
export type GridHeat = z.infer<typeof GridHeatSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Realtime

/**
 * `GET /api/stream` (text/event-stream). Each event's `id` is the outbox id, so `Last-Event-ID` resumes after a
 * dropped connection. `event: case` carries a case change the subscriber may see; `event: ping` keeps proxies open.
 */
export const CaseStreamEventSchema = z.object({
  topic: z.string(),
  caseId: z.number().int(),
  serial: z.string(),
  status: CaseStatusSchema,
  at: z.string(),
});
export type CaseStreamEvent = z.infer<typeof CaseStreamEventSchema>;
