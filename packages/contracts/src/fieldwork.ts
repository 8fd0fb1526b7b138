import { z } from 'zod';
import { RegionCodeSchema } from './common.ts';
import { genderValues, personStatusValues, relationToHeadValues, type PersonTagKind } from './registry.ts';

/**
 * Field work of grid workers (网格通, issue 6): patrol sessions with GPS tracks, household visits, the work diary,
 * compliance against the Jining rules (DOMAIN.md §5) and the offline copy of a grid's households.
 *
 * Every create from the field app carries an id generated on the phone (`id` of a patrol, `clientId` of a visit,
 * `batchId` of a batch of points): a replay returns the original and adds nothing, so the outbox can resend freely.
 */

export const fieldworkLimits = {
  /** points in one batch */
  pointsPerBatch: 500,
  /** a patrol longer than this is cut here when counted (a phone left on overnight) */
  patrolMaxSeconds: 12 * 3600,
  /** 一巡: hours of patrol a working day */
  patrolHoursPerDay: 4,
  /** 两访: visits to every household each quarter */
  visitsPerQuarter: 2,
  /** anti-spoofing: a point further than this outside its grid is flagged */
  outsideGridMeters: 200,
  /** anti-spoofing: faster than this between two points is flagged (m/s; ≈ 108 km/h) */
  maxSpeedMetersPerSecond: 30,
  /** anti-spoofing: this many identical coordinates in a row are flagged */
  repeatedPointsRun: 10,
  notesMax: 2000,
  /** households in one offline copy */
  offlineHouseholdsMax: 3000,
} as const;

/** Key-population tags that make a household one to visit every month (困难家庭、空巢独居老人 and the like). */
export const monthlyVisitTags: readonly PersonTagKind[] = [
  'elderly_alone',
  'empty_nest',
  'disabled',
  'low_income',
  'left_behind_child',
];

const DateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式 YYYY-MM-DD (date YYYY-MM-DD)');
const Instant = z.iso.datetime({ offset: true });

// ---------------------------------------------------------------------------------------------------------------
// Patrols (一巡)

export const patrolFlagValues = ['outside_grid', 'impossible_speed', 'repeated_coordinates'] as const;
export type PatrolFlag = (typeof patrolFlagValues)[number];

export const StartPatrolRequestSchema = z.object({
  /** generated on the phone; a replay returns the same patrol */
  id: z.uuid(),
  gridCode: RegionCodeSchema,
  startedAt: Instant,
});
export type StartPatrolRequest = z.infer<typeof StartPatrolRequestSchema>;

export const PatrolPointSchema = z.object({
  at: Instant,
  /** WGS-84 from the phone's GPS */
  lng: z.number().min(-180).max(180),
  lat: z.number().min(-90).max(90),
  /** metres, as reported by the device */
  accuracy: z.number().min(0).max(100_000).optional(),
});
export type PatrolPoint = z.infer<typeof PatrolPointSchema>;

export const PatrolPointsRequestSchema = z.object({
  /** generated on the phone; a replayed batch adds nothing */
  batchId: z.uuid(),
  points: z.array(PatrolPointSchema).min(1).max(fieldworkLimits.pointsPerBatch),
});
export type PatrolPointsRequest = z.infer<typeof PatrolPointsRequestSchema>;

export const StopPatrolRequestSchema = z.object({ endedAt: Instant });
export type StopPatrolRequest = z.infer<typeof StopPatrolRequestSchema>;

export const PatrolSchema = z.object({
  id: z.uuid(),
  userId: z.number().int(),
  userName: z.string(),
  gridCode: z.string(),
  gridName: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** counted duration: ended − started (now − started while running), capped at `patrolMaxSeconds` */
  durationSeconds: z.number().int(),
  /** along the accepted points (a jump flagged as impossible speed is not counted) */
  distanceMeters: z.number().int(),
  pointCount: z.number().int(),
  /** anti-spoofing flags with how many points raised each */
  flags: z.array(z.object({ flag: z.enum(patrolFlagValues), points: z.number().int() })),
});
export type Patrol = z.infer<typeof PatrolSchema>;

export const PatrolPointsResultSchema = z.object({
  /** points stored by this request (0 on a replay) */
  accepted: z.number().int(),
  /** true when this batchId had been received already */
  replay: z.boolean(),
  patrol: PatrolSchema,
});
export type PatrolPointsResult = z.infer<typeof PatrolPointsResultSchema>;

export const PatrolListQuerySchema = z.object({
  /** default: the caller; a leader may name a worker in their scope */
  userId: z.coerce.number().int().positive().optional(),
  grid: RegionCodeSchema.optional(),
  /** China dates, inclusive; default today */
  from: DateSchema.optional(),
  to: DateSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type PatrolListQuery = z.infer<typeof PatrolListQuerySchema>;

export const PatrolListSchema = z.object({ items: z.array(PatrolSchema) });

export const PatrolTrackSchema = z.object({
  patrolId: z.uuid(),
  /** [lng, lat, epoch ms, flagged (1) or not (0)] in time order */
  points: z.array(z.tuple([z.number(), z.number(), z.number(), z.number().int()])),
  /** the grid's outline as GeoJSON MultiPolygon coordinates, to draw the track inside it */
  gridOutline: z.array(z.array(z.array(z.tuple([z.number(), z.number()])))),
});
export type PatrolTrack = z.infer<typeof PatrolTrackSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Household visits (两访)

export const visitKindValues = ['routine', 'care', 'follow_up', 'dispute', 'safety'] as const;
export type VisitKind = (typeof visitKindValues)[number];
export const visitKindLabels: Record<VisitKind, { zh: string; en: string }> = {
  routine: { zh: '日常走访', en: 'Routine visit' },
  care: { zh: '关爱探访', en: 'Care visit' },
  follow_up: { zh: '回访', en: 'Follow-up' },
  dispute: { zh: '矛盾调解', en: 'Dispute mediation' },
  safety: { zh: '安全检查', en: 'Safety check' },
};

export const visitNeedValues = [
  'medical',
  'elderly_care',
  'financial',
  'employment',
  'housing',
  'dispute',
  'safety',
  'other',
] as const;
export type VisitNeed = (typeof visitNeedValues)[number];
export const visitNeedLabels: Record<VisitNeed, { zh: string; en: string }> = {
  medical: { zh: '就医', en: 'Medical' },
  elderly_care: { zh: '养老照护', en: 'Elderly care' },
  financial: { zh: '生活困难', en: 'Financial hardship' },
  employment: { zh: '就业', en: 'Employment' },
  housing: { zh: '住房', en: 'Housing' },
  dispute: { zh: '矛盾纠纷', en: 'Dispute' },
  safety: { zh: '安全隐患', en: 'Safety hazard' },
  other: { zh: '其他', en: 'Other' },
};

export const CreateVisitRequestSchema = z.object({
  /** generated on the phone; a replay returns the first visit */
  clientId: z.uuid(),
  householdId: z.number().int().positive(),
  kind: z.enum(visitKindValues),
  visitedAt: Instant,
  notes: z.string().max(fieldworkLimits.notesMax).default(''),
  needs: z
    .array(z.object({ kind: z.enum(visitNeedValues), text: z.string().trim().max(200).default('') }))
    .max(10)
    .default([]),
  /** when to come back (a China date, not before the visit) */
  followUpOn: DateSchema.optional(),
  location: z
    .object({
      lng: z.number().min(-180).max(180),
      lat: z.number().min(-90).max(90),
      accuracy: z.number().min(0).max(100_000).optional(),
    })
    .optional(),
});
export type CreateVisitRequest = z.infer<typeof CreateVisitRequestSchema>;

export const VisitSchema = z.object({
  id: z.number().int(),
  clientId: z.uuid(),
  householdId: z.number().int(),
  householdLabel: z.string(),
  gridCode: z.string(),
  userId: z.number().int(),
  userName: z.string(),
  kind: z.enum(visitKindValues),
  visitedAt: z.string(),
  notes: z.string(),
  needs: z.array(z.object({ kind: z.enum(visitNeedValues), text: z.string() })),
  followUpOn: z.string().nullable(),
  createdAt: z.string(),
  /** false when the clientId had been used already and this is the first visit again */
  created: z.boolean(),
});
export type Visit = z.infer<typeof VisitSchema>;

export const VisitListQuerySchema = z.object({
  householdId: z.coerce.number().int().positive().optional(),
  grid: RegionCodeSchema.optional(),
  userId: z.coerce.number().int().positive().optional(),
  from: DateSchema.optional(),
  to: DateSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type VisitListQuery = z.infer<typeof VisitListQuerySchema>;

export const VisitListSchema = z.object({ items: z.array(VisitSchema), nextCursor: z.string().nullable() });

/** 必访: what a household still needs this month (vulnerable) and this quarter (everyone). */
export const visitDueStatusValues = ['done', 'due', 'overdue'] as const;
export type VisitDueStatus = (typeof visitDueStatusValues)[number];

export const VisitPlanItemSchema = z.object({
  householdId: z.number().int(),
  householdLabel: z.string(),
  /** a member carries one of `monthlyVisitTags` (the tag itself is not shown) */
  monthly: z.boolean(),
  lastVisitAt: z.string().nullable(),
  visitsThisMonth: z.number().int(),
  visitsThisQuarter: z.number().int(),
  /**
   * done: this period's visits are made; due: still needed by `dueBy`; overdue: the previous period was missed
   * (a monthly household not visited last month, or fewer than two visits last quarter) and none since
   */
  status: z.enum(visitDueStatusValues),
  /** the last day of the period in which the next visit is needed (China date) */
  dueBy: z.string(),
  /** the earliest follow-up date asked for by a visit, if still ahead or missed */
  followUpOn: z.string().nullable(),
});
export type VisitPlanItem = z.infer<typeof VisitPlanItemSchema>;

export const VisitPlanQuerySchema = z.object({
  /** the day the plan is for (China date); default today */
  on: DateSchema.optional(),
});

export const VisitPlanSchema = z.object({
  gridCode: z.string(),
  on: z.string(),
  monthEnds: z.string(),
  quarterEnds: z.string(),
  counts: z.object({ done: z.number().int(), due: z.number().int(), overdue: z.number().int() }),
  items: z.array(VisitPlanItemSchema),
});
export type VisitPlan = z.infer<typeof VisitPlanSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Offline copy of a grid's households (masked only; read audited)

export const OfflineMemberSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  gender: z.enum(genderValues),
  birthYear: z.number().int().nullable(),
  relationToHead: z.enum(relationToHeadValues).nullable(),
  idNumberMasked: z.string(),
  phoneMasked: z.string().nullable(),
  status: z.enum(personStatusValues),
  currentAddress: z.string().nullable(),
  work: z.string().nullable(),
  /** send back as `expectedVersion` when editing */
  version: z.number().int(),
});
export type OfflineMember = z.infer<typeof OfflineMemberSchema>;

export const OfflineHouseholdSchema = z.object({
  id: z.number().int(),
  label: z.string(),
  kind: z.string(),
  buildingName: z.string().nullable(),
  unit: z.string().nullable(),
  room: z.string().nullable(),
  monthly: z.boolean(),
  members: z.array(OfflineMemberSchema),
});
export type OfflineHousehold = z.infer<typeof OfflineHouseholdSchema>;

export const OfflineGridSchema = z.object({
  gridCode: z.string(),
  gridName: z.string(),
  generatedAt: z.string(),
  households: z.array(OfflineHouseholdSchema),
});
export type OfflineGrid = z.infer<typeof OfflineGridSchema>;

// ---------------------------------------------------------------------------------------------------------------
// My tasks

export const FieldTaskCaseSchema = z.object({
  id: z.number().int(),
  serial: z.string(),
  title: z.string(),
  /** what the worker is to do: verify (核实), inspect (核查) */
  task: z.enum(['verify', 'inspect']),
  gridCode: z.string(),
  gridName: z.string(),
  address: z.string().nullable(),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  urgent: z.boolean(),
});
export type FieldTaskCase = z.infer<typeof FieldTaskCaseSchema>;

export const FieldTasksSchema = z.object({
  cases: z.array(FieldTaskCaseSchema),
  /** households due or overdue for a visit, overdue first, then by due date */
  visits: z.array(VisitPlanItemSchema.extend({ gridCode: z.string() })),
  /** my grids, with their names (the app works on these) */
  grids: z.array(z.object({ code: z.string(), name: z.string() })),
});
export type FieldTasks = z.infer<typeof FieldTasksSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Work diary (一日志)

export const DiaryQuerySchema = z.object({
  /** default: the caller; a leader may read a worker in their scope */
  userId: z.coerce.number().int().positive().optional(),
});

export const DiarySchema = z.object({
  date: z.string(),
  userId: z.number().int(),
  userName: z.string(),
  patrols: z.object({
    count: z.number().int(),
    seconds: z.number().int(),
    meters: z.number().int(),
    flaggedPoints: z.number().int(),
  }),
  visits: z.object({ count: z.number().int(), households: z.number().int(), needsFound: z.number().int() }),
  cases: z.object({
    reported: z.number().int(),
    fixedOnSpot: z.number().int(),
    verified: z.number().int(),
    inspected: z.number().int(),
  }),
  /** one line per thing done, in time order, generated from the record */
  entries: z.array(z.object({ at: z.string(), kind: z.enum(['patrol', 'visit', 'case']), text: z.string() })),
  notes: z.string(),
  /** 0 when no notes were written yet; send back as `expectedVersion` */
  version: z.number().int(),
});
export type Diary = z.infer<typeof DiarySchema>;

export const PutDiaryNotesRequestSchema = z.object({
  notes: z.string().max(fieldworkLimits.notesMax),
  expectedVersion: z.number().int().min(0).optional(),
});
export type PutDiaryNotesRequest = z.infer<typeof PutDiaryNotesRequestSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Compliance (per worker and grid)

export const compliancePeriodValues = ['day', 'month', 'quarter'] as const;
export type CompliancePeriod = (typeof compliancePeriodValues)[number];

export const ComplianceQuerySchema = z.object({
  /** a region in the caller's scope (a grid, community, street…); default: the caller's own grids */
  region: RegionCodeSchema.optional(),
  period: z.enum(compliancePeriodValues).default('month'),
  /** any China date inside the period; default today */
  on: DateSchema.optional(),
});
export type ComplianceQuery = z.infer<typeof ComplianceQuerySchema>;

export const ComplianceRowSchema = z.object({
  userId: z.number().int(),
  userName: z.string(),
  gridCode: z.string(),
  gridName: z.string(),
  patrol: z.object({
    seconds: z.number().int(),
    /** working days of the period up to `on` (Chinese calendar) */
    workingDays: z.number().int(),
    /** working days with at least `patrolHoursPerDay` hours of patrol in this grid */
    daysMet: z.number().int(),
    /** daysMet / workingDays (1 when there is no working day yet) */
    ratio: z.number(),
  }),
  visits: z.object({
    /** active households of the grid */
    households: z.number().int(),
    /** households with at least `visitsPerQuarter` visits in the quarter (to `on`) */
    covered: z.number().int(),
    ratio: z.number(),
  }),
  vulnerable: z.object({
    households: z.number().int(),
    /** monthly households visited in the month (to `on`) */
    covered: z.number().int(),
    ratio: z.number(),
  }),
  flags: z.object({
    outsideGrid: z.number().int(),
    impossibleSpeed: z.number().int(),
    repeatedCoordinates: z.number().int(),
  }),
});
export type ComplianceRow = z.infer<typeof ComplianceRowSchema>;

export const ComplianceReportSchema = z.object({
  period: z.enum(compliancePeriodValues),
  from: z.string(),
  to: z.string(),
  on: z.string(),
  rows: z.array(ComplianceRowSchema),
});
export type ComplianceReport = z.infer<typeof ComplianceReportSchema>;
