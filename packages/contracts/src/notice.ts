import { z } from 'zod';
import { CaseLocationSchema, PhoneSchema } from './case-intake.ts';
import { caseStatusValues, EvaluationSchema } from './case.ts';
import { RegionCodeSchema } from './common.ts';

/**
 * Reaching people (issue 7): alerts (紧急协查) to every grid of an area with per-grid acknowledgement and
 * sightings, notices (通知) with delivery, read and relay (已转达) per grid, reminders and escalation, the
 * residents' pages (no account: a phone verified by code), and polls.
 */

export const noticeLimits = {
  titleMax: 100,
  bodyMax: 5000,
  descriptionMax: 2000,
  noteMax: 1000,
  gridsMax: 5000,
  /** resident verification */
  codeTtlSeconds: 300,
  codeAttempts: 5,
  /** a new code for the same phone no sooner than this */
  codeResendSeconds: 60,
  codesPerPhonePerHour: 5,
  codesPerAddressPerHour: 20,
  tokenTtlSeconds: 30 * 24 * 3600,
  reportsPerPhonePerDay: 10,
  reportsPerAddressPerDay: 30,
  pollOptionsMax: 10,
  /** closed alerts stay on resident pages (as found / lifted, without the photo) this long */
  closedAlertDays: 7,
} as const;

const Instant = z.iso.datetime({ offset: true });
const Title = z.string().trim().min(1).max(noticeLimits.titleMax);
const PointSchema = z.object({ lng: z.number().min(-180).max(180), lat: z.number().min(-90).max(90) });

// ---------------------------------------------------------------------------------------------------------------
// Alerts

export const alertKindValues = ['missing_person', 'emergency'] as const;
export const AlertKindSchema = z.enum(alertKindValues);
export const alertOutcomeValues = ['found', 'lifted'] as const;
export const AlertOutcomeSchema = z.enum(alertOutcomeValues);

export const CreateAlertRequestSchema = z.object({
  clientId: z.uuid(),
  kind: AlertKindSchema,
  title: Title,
  description: z.string().trim().min(1).max(noticeLimits.descriptionMax),
  /** the region whose every grid is alerted (a street, a community, a district …) */
  regionCode: RegionCodeSchema,
  lastSeen: z
    .object({
      location: PointSchema.optional(),
      place: z.string().trim().max(200).optional(),
      at: Instant.optional(),
    })
    .optional(),
});
export type CreateAlertRequest = z.infer<typeof CreateAlertRequestSchema>;

export const AlertSummarySchema = z.object({
  id: z.number().int(),
  kind: AlertKindSchema,
  title: z.string(),
  description: z.string(),
  regionCode: z.string(),
  status: z.enum(['open', 'closed']),
  outcome: AlertOutcomeSchema.nullable(),
  hasPhoto: z.boolean(),
  lastSeen: z.object({
    location: PointSchema.nullable(),
    place: z.string().nullable(),
    at: z.string().nullable(),
  }),
  gridCount: z.number().int(),
  acknowledgedCount: z.number().int(),
  sightingCount: z.number().int(),
  createdAt: z.string(),
  closedAt: z.string().nullable(),
  created: z.boolean().optional(),
});
export type AlertSummary = z.infer<typeof AlertSummarySchema>;

export const AlertGridStatusSchema = z.object({
  gridCode: z.string(),
  gridName: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
});

export const SightingSchema = z.object({
  id: z.number().int(),
  alertId: z.number().int(),
  note: z.string(),
  location: PointSchema,
  seenAt: z.string(),
  gridCode: z.string().nullable(),
  hasPhoto: z.boolean(),
  reportedBy: z.string(),
  createdAt: z.string(),
  created: z.boolean().optional(),
});
export type Sighting = z.infer<typeof SightingSchema>;

export const AlertDetailSchema = AlertSummarySchema.extend({
  grids: z.array(AlertGridStatusSchema),
  sightings: z.array(SightingSchema),
  /** the sightings and the last-seen point as a GeoJSON FeatureCollection (for the map) */
  geojson: z.object({
    type: z.literal('FeatureCollection'),
    features: z.array(
      z.object({
        type: z.literal('Feature'),
        geometry: z.object({ type: z.literal('Point'), coordinates: z.array(z.number()) }),
        properties: z.record(z.string(), z.unknown()),
      }),
    ),
  }),
});
export type AlertDetail = z.infer<typeof AlertDetailSchema>;

export const AlertListQuerySchema = z.object({ status: z.enum(['open', 'closed', 'all']).default('open') });
export const AlertListSchema = z.object({ items: z.array(AlertSummarySchema) });

export const AcknowledgeRequestSchema = z.object({ gridCode: RegionCodeSchema });
export const AcknowledgementSchema = z.object({
  gridCode: z.string(),
  acknowledgedAt: z.string(),
  /** false when the grid had already acknowledged (the first time is kept) */
  created: z.boolean(),
});

export const CreateSightingRequestSchema = z.object({
  clientId: z.uuid(),
  note: z.string().trim().min(1).max(noticeLimits.noteMax),
  location: CaseLocationSchema,
  seenAt: Instant,
});
export type CreateSightingRequest = z.infer<typeof CreateSightingRequestSchema>;

export const CloseAlertRequestSchema = z.object({
  outcome: AlertOutcomeSchema,
  note: z.string().trim().max(noticeLimits.noteMax).optional(),
});

/** `event: alert` on the staff stream and the resident stream. */
export const AlertStreamEventSchema = z.object({
  topic: z.string(),
  alertId: z.number().int(),
  kind: AlertKindSchema,
  title: z.string(),
  status: z.enum(['open', 'closed']),
  outcome: AlertOutcomeSchema.nullable(),
  gridCode: z.string().nullable(),
  at: z.string(),
});

// ---------------------------------------------------------------------------------------------------------------
// Notices

export const noticeTargetKindValues = ['region', 'grids', 'roles', 'residents'] as const;
export const noticeRoleValues = [
  'centre_operator',
  'leader',
  'grid_leader',
  'grid_worker',
  'professional_worker',
  'auxiliary',
  'department_handler',
] as const;

export const NoticeTargetSchema = z.discriminatedUnion('kind', [
  /** every grid of a region subtree, and the staff working in it */
  z.object({ kind: z.literal('region'), regionCode: RegionCodeSchema }),
  /** chosen grids and their staff */
  z.object({
    kind: z.literal('grids'),
    gridCodes: z.array(RegionCodeSchema).min(1).max(noticeLimits.gridsMax),
  }),
  /** staff of these roles inside a region subtree (no grid relay) */
  z.object({
    kind: z.literal('roles'),
    regionCode: RegionCodeSchema,
    roles: z.array(z.enum(noticeRoleValues)).min(1),
  }),
  /** the residents of an area: shown on the public page of every grid in it; its workers relay it */
  z.object({ kind: z.literal('residents'), regionCode: RegionCodeSchema }),
]);
export type NoticeTarget = z.infer<typeof NoticeTargetSchema>;

export const CreateNoticeRequestSchema = z.object({
  clientId: z.uuid(),
  title: Title,
  body: z.string().trim().min(1).max(noticeLimits.bodyMax),
  target: NoticeTargetSchema,
  /** later: a job publishes it then; omitted or past: now */
  publishAt: Instant.optional(),
  /** remind grids that have not relayed it after this many minutes; twice that: their grid leader; three times: the community centre */
  remindAfterMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
});
export type CreateNoticeRequest = z.infer<typeof CreateNoticeRequestSchema>;

export const NoticeAttachmentSchema = z.object({
  id: z.number().int(),
  /** images are re-encoded JPEG; documents (PDF, .docx, .xlsx) are kept as sent */
  kind: z.enum(['image', 'document']),
  /** a document's sanitised file name (null for images) */
  fileName: z.string().nullable(),
  contentType: z.string(),
  bytes: z.number().int(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
});

export const NoticeSchema = z.object({
  id: z.number().int(),
  title: z.string(),
  body: z.string(),
  target: NoticeTargetSchema,
  public: z.boolean(),
  status: z.enum(['scheduled', 'published']),
  publishAt: z.string(),
  publishedAt: z.string().nullable(),
  remindAfterMinutes: z.number().int().nullable(),
  gridCount: z.number().int(),
  recipientCount: z.number().int(),
  attachments: z.array(NoticeAttachmentSchema),
  createdAt: z.string(),
  created: z.boolean().optional(),
});
export type Notice = z.infer<typeof NoticeSchema>;

export const MyNoticeSchema = NoticeSchema.extend({
  deliveredAt: z.string().nullable(),
  readAt: z.string().nullable(),
  reason: z.enum(['target', 'escalation_leader', 'escalation_community']),
  /** the caller's grids that received it and whether each relayed it */
  grids: z.array(z.object({ gridCode: z.string(), acknowledgedAt: z.string().nullable() })),
});
export const MyNoticeListSchema = z.object({ items: z.array(MyNoticeSchema), unread: z.number().int() });

export const NoticeStatsSchema = z.object({
  noticeId: z.number().int(),
  recipients: z.number().int(),
  delivered: z.number().int(),
  read: z.number().int(),
  grids: z.number().int(),
  acknowledged: z.number().int(),
  byGrid: z.array(
    z.object({
      gridCode: z.string(),
      gridName: z.string(),
      acknowledgedAt: z.string().nullable(),
      remindedAt: z.string().nullable(),
      escalatedLeaderAt: z.string().nullable(),
      escalatedCommunityAt: z.string().nullable(),
    }),
  ),
});
export type NoticeStats = z.infer<typeof NoticeStatsSchema>;

/** `event: notice` on the staff stream (published, reminded, escalated, relayed) and the resident stream (published). */
export const NoticeStreamEventSchema = z.object({
  topic: z.string(),
  noticeId: z.number().int(),
  title: z.string(),
  gridCodes: z.array(z.string()).optional(),
  at: z.string(),
});

// ---------------------------------------------------------------------------------------------------------------
// Residents (no account)

export const ResidentCodeRequestSchema = z.object({ phone: PhoneSchema });
export const ResidentCodeSentSchema = z.object({ expiresInSeconds: z.number().int(), phone: z.string() });
export const ResidentVerifyRequestSchema = z.object({
  phone: PhoneSchema,
  code: z.string().regex(/^\d{6}$/, '验证码为 6 位数字 (the code has 6 digits)'),
});
export const ResidentTokenSchema = z.object({
  token: z.string(),
  expiresAt: z.string(),
  /** masked: 138****5678 */
  phone: z.string(),
});

/**
 * The place is a point (GPS) or, when the phone gives none (location denied, indoors), a typed address inside the
 * grid of the page (`gridCode`): the case is then placed at the grid's representative point.
 */
export const ResidentReportRequestSchema = z
  .object({
    clientId: z.uuid(),
    title: z.string().trim().min(1).max(100),
    description: z.string().trim().min(1).max(2000),
    location: CaseLocationSchema.optional(),
    address: z.string().trim().max(200).optional(),
    /** the grid of the page the resident is on (15 digits); required without a location */
    gridCode: z
      .string()
      .regex(/^\d{15}$/, '网格编码为 15 位数字 (a grid code has 15 digits)')
      .optional(),
    /** an item of the taxonomy; default 咨询求助 (1001) for reports, 意见建议 (1002) for wishes */
    categoryCode: z
      .string()
      .regex(/^\d{4}$/)
      .optional(),
  })
  .superRefine((value, context) => {
    if (value.location) return;
    if (!value.gridCode)
      context.addIssue({
        code: 'custom',
        path: ['location'],
        message: '请开启定位,或填写所在网格内的地址 (give a location, or an address in the grid of the page)',
      });
    if (!value.address || value.address.length < 4)
      context.addIssue({
        code: 'custom',
        path: ['address'],
        message:
          '未定位时须填写详细地址(至少 4 个字) (without a location, an address of at least 4 characters)',
      });
  });
export type ResidentReportRequest = z.infer<typeof ResidentReportRequestSchema>;

export const ResidentReportSchema = z.object({
  caseId: z.number().int(),
  serial: z.string(),
  kind: z.enum(['report', 'wish']),
  title: z.string(),
  status: z.enum(caseStatusValues),
  gridCode: z.string(),
  reportedAt: z.string(),
  evaluation: EvaluationSchema.nullable(),
  created: z.boolean().optional(),
});
export const ResidentReportListSchema = z.object({ items: z.array(ResidentReportSchema) });
export const ResidentRateRequestSchema = z.object({
  evaluation: EvaluationSchema,
  comment: z.string().trim().max(1000).optional(),
});

export const PublicAlertSchema = z.object({
  id: z.number().int(),
  kind: AlertKindSchema,
  title: z.string(),
  description: z.string(),
  status: z.enum(['open', 'closed']),
  outcome: AlertOutcomeSchema.nullable(),
  lastSeenPlace: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  /** only while open: `/api/public/alerts/{id}/photo` */
  photoUrl: z.string().nullable(),
  createdAt: z.string(),
  closedAt: z.string().nullable(),
});
export const PublicNoticeSchema = z.object({
  id: z.number().int(),
  title: z.string(),
  body: z.string(),
  publishedAt: z.string(),
  /** the notice's images */
  attachmentUrls: z.array(z.string()),
  /** the notice's documents (PDF, .docx, .xlsx), downloaded from `url` */
  documents: z.array(z.object({ url: z.string(), fileName: z.string(), bytes: z.number().int() })),
});

// ---------------------------------------------------------------------------------------------------------------
// Polls

export const CreatePollRequestSchema = z.object({
  clientId: z.uuid(),
  question: z.string().trim().min(1).max(200),
  options: z.array(z.string().trim().min(1).max(100)).min(2).max(noticeLimits.pollOptionsMax),
  regionCode: RegionCodeSchema,
  openUntil: Instant,
});
export const PollSchema = z.object({
  id: z.number().int(),
  question: z.string(),
  options: z.array(z.string()),
  regionCode: z.string(),
  openUntil: z.string(),
  open: z.boolean(),
  /** counts per option, in the order of `options`: public at all times */
  counts: z.array(z.number().int()),
  total: z.number().int(),
  created: z.boolean().optional(),
});
export type Poll = z.infer<typeof PollSchema>;
/** A poll as the centres see it (`GET /api/polls`, `/api/polls/{id}`): the public poll and who, where and when. */
export const StaffPollSchema = PollSchema.extend({
  regionName: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** set when a centre closed it before `openUntil` (结束投票) */
  closedAt: z.string().nullable(),
  /** the caller may close it now (open, and the poll's area is inside the caller's scope) */
  canClose: z.boolean(),
});
export type StaffPoll = z.infer<typeof StaffPollSchema>;
export const PollListQuerySchema = z.object({ status: z.enum(['open', 'closed', 'all']).default('all') });
export const PollListSchema = z.object({ items: z.array(StaffPollSchema) });
export const PollVoteRequestSchema = z.object({
  option: z.number().int().min(0),
  /** the grid page the resident votes from: must be inside the poll's area */
  gridCode: RegionCodeSchema,
});

export const PublicGridPageSchema = z.object({
  grid: z.object({ code: z.string(), name: z.string(), communityName: z.string().nullable() }),
  /** display names only */
  workers: z.array(z.object({ displayName: z.string() })),
  notices: z.array(PublicNoticeSchema),
  alerts: z.array(PublicAlertSchema),
  polls: z.array(PollSchema),
});
export type PublicGridPage = z.infer<typeof PublicGridPageSchema>;
