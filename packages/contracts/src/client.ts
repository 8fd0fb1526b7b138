import { z } from 'zod';
import { CalendarSummarySchema, CalendarYearSchema, PutCalendarYearRequestSchema } from './calendar.ts';
import {
  CaseActionSchema,
  CaseDetailSchema,
  CaseTimelineSchema,
  type caseActionInputSchemas,
  type CaseAction,
} from './case-actions.ts';
import {
  CaseCreatedSchema,
  CasePhotoQuerySchema,
  CasePhotoSchema,
  CreateCaseRequestSchema,
} from './case-intake.ts';
import {
  NotificationListSchema,
  NotificationQuerySchema,
  QueueQuerySchema,
  QueueResponseSchema,
} from './case-queues.ts';
import { ErrorResponseSchema, type ErrorResponse } from './common.ts';
import {
  ComplianceQuerySchema,
  ComplianceReportSchema,
  CreateVisitRequestSchema,
  DiaryQuerySchema,
  DiarySchema,
  FieldTasksSchema,
  OfflineGridSchema,
  PatrolListQuerySchema,
  PatrolListSchema,
  PatrolPointsRequestSchema,
  PatrolPointsResultSchema,
  PatrolSchema,
  PatrolTrackSchema,
  PutDiaryNotesRequestSchema,
  StartPatrolRequestSchema,
  StopPatrolRequestSchema,
  VisitListQuerySchema,
  VisitListSchema,
  VisitPlanQuerySchema,
  VisitPlanSchema,
  VisitSchema,
} from './fieldwork.ts';
import {
  CaseListQuerySchema,
  CaseListSchema,
  CreateDepartmentRequestSchema,
  DepartmentListQuerySchema,
  DepartmentListSchema,
  DepartmentSchema,
  DispatchPreviewQuerySchema,
  DispatchPreviewSchema,
  GridHeatSchema,
  KpiTrendQuerySchema,
  KpiTrendSchema,
  NearbyCasesQuerySchema,
  NearbyCasesSchema,
  RegionChildStatsSchema,
  RegionListSchema,
  RegionSearchQuerySchema,
  RegionStatsSchema,
  RegionViewSchema,
  UpdateDepartmentRequestSchema,
  UpdateUserRequestSchema,
} from './console.ts';
import {
  ChangePasswordRequestSchema,
  CreateUserRequestSchema,
  ListUsersQuerySchema,
  LoginRequestSchema,
  LoginResponseSchema,
  MeResponseSchema,
  UserListResponseSchema,
  UserSchema,
} from './identity.ts';
import {
  HotlineClassificationListSchema,
  HotlineClassificationParamsSchema,
  HotlineClassificationSchema,
  HotlineResolvedSchema,
  HotlineTriageListSchema,
  HotlineTriageParamsSchema,
  HotlineTriageQuerySchema,
  PutHotlineClassificationRequestSchema,
  RejectHotlineTriageRequestSchema,
  ResolveHotlineTriageRequestSchema,
} from './hotline.ts';
import { KpiQuerySchema, KpiReportSchema } from './kpi.ts';
import { ImportRegionsResponseSchema } from './region.ts';
import {
  AcknowledgementSchema,
  AcknowledgeRequestSchema,
  AlertDetailSchema,
  AlertListQuerySchema,
  AlertListSchema,
  AlertSummarySchema,
  CloseAlertRequestSchema,
  CreateAlertRequestSchema,
  CreateNoticeRequestSchema,
  CreatePollRequestSchema,
  CreateSightingRequestSchema,
  MyNoticeListSchema,
  NoticeSchema,
  NoticeStatsSchema,
  PollListQuerySchema,
  PollListSchema,
  PollSchema,
  PollVoteRequestSchema,
  PublicGridPageSchema,
  ResidentCodeRequestSchema,
  ResidentCodeSentSchema,
  ResidentRateRequestSchema,
  ResidentReportListSchema,
  ResidentReportRequestSchema,
  ResidentReportSchema,
  ResidentTokenSchema,
  ResidentVerifyRequestSchema,
  SightingSchema,
  StaffPollSchema,
} from './notice.ts';
import { ImportListQuerySchema, ImportListSchema, ImportResultSchema } from './registry-excel.ts';
import {
  BuildingListSchema,
  GridSizingSchema,
  HouseholdListSchema,
  PersonHouseholdSchema,
  PersonListQuerySchema,
  PersonListSchema,
  PersonSchema,
  RegistryStatsQuerySchema,
  RegistryStatsSchema,
  RevealRequestSchema,
  RevealResponseSchema,
  UpdatePersonRequestSchema,
} from './registry.ts';
import {
  CreateTaxonomyItemRequestSchema,
  TaxonomyItemSchema,
  TaxonomyTreeSchema,
  UpdateTaxonomyItemRequestSchema,
} from './taxonomy.ts';

/**
 * The typed client the web apps use (issue 8: no hand-written fetches). Each endpoint names its method, path,
 * request schemas and response schema, all from this package; a server test checks that every endpoint here is a
 * route in the server's OpenAPI document, so the two cannot drift apart silently.
 */
export interface Endpoint<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  R extends z.ZodType | null = z.ZodType | null,
> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** with `{name}` placeholders filled from `params` */
  path: string;
  params?: P;
  query?: Q;
  body?: B;
  /** null: no JSON body (204) */
  response: R;
}

function endpoint<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends z.ZodType | null = null,
>(e: Endpoint<P, Q, B, R>): Endpoint<P, Q, B, R> {
  return e;
}

const Code = z.object({ code: z.string() });
const Id = z.object({ id: z.number().int() });
const Uuid = z.object({ id: z.uuid() });
const DateParam = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });

export const endpoints = {
  health: endpoint({
    method: 'GET',
    path: '/api/health',
    response: z.object({ status: z.string(), database: z.string() }).loose(),
  }),
  login: endpoint({
    method: 'POST',
    path: '/api/auth/login',
    body: LoginRequestSchema,
    response: LoginResponseSchema,
  }),
  logout: endpoint({ method: 'POST', path: '/api/auth/logout', response: null }),
  me: endpoint({ method: 'GET', path: '/api/me', response: MeResponseSchema }),
  changePassword: endpoint({
    method: 'POST',
    path: '/api/me/password',
    body: ChangePasswordRequestSchema,
    response: null,
  }),

  region: endpoint({ method: 'GET', path: '/api/regions/{code}', params: Code, response: RegionViewSchema }),
  regionChildren: endpoint({
    method: 'GET',
    path: '/api/regions/{code}/children',
    params: Code,
    response: RegionListSchema,
  }),
  regionStats: endpoint({
    method: 'GET',
    path: '/api/regions/{code}/stats',
    params: Code,
    response: RegionStatsSchema,
  }),
  regionChildStats: endpoint({
    method: 'GET',
    path: '/api/regions/{code}/children/stats',
    params: Code,
    response: RegionChildStatsSchema,
  }),
  regionSearch: endpoint({
    method: 'GET',
    path: '/api/regions/search',
    query: RegionSearchQuerySchema,
    response: RegionListSchema,
  }),
  importRegions: endpoint({
    method: 'POST',
    path: '/api/regions/import',
    body: z.unknown(),
    response: ImportRegionsResponseSchema,
  }),
  locateGrid: endpoint({
    method: 'GET',
    path: '/api/grids/locate',
    query: z.object({ lat: z.number(), lng: z.number(), crs: z.string().optional() }),
    response: z.object({ code: z.string(), name: z.string() }).loose(),
  }),

  users: endpoint({
    method: 'GET',
    path: '/api/users',
    query: ListUsersQuerySchema,
    response: UserListResponseSchema,
  }),
  user: endpoint({ method: 'GET', path: '/api/users/{id}', params: Id, response: UserSchema }),
  createUser: endpoint({
    method: 'POST',
    path: '/api/users',
    body: CreateUserRequestSchema,
    response: UserSchema,
  }),
  updateUser: endpoint({
    method: 'PATCH',
    path: '/api/users/{id}',
    params: Id,
    body: UpdateUserRequestSchema,
    response: UserSchema,
  }),

  departments: endpoint({
    method: 'GET',
    path: '/api/departments',
    query: DepartmentListQuerySchema,
    response: DepartmentListSchema,
  }),
  createDepartment: endpoint({
    method: 'POST',
    path: '/api/departments',
    body: CreateDepartmentRequestSchema,
    response: DepartmentSchema,
  }),
  updateDepartment: endpoint({
    method: 'PATCH',
    path: '/api/departments/{id}',
    params: Id,
    body: UpdateDepartmentRequestSchema,
    response: DepartmentSchema,
  }),

  createCase: endpoint({
    method: 'POST',
    path: '/api/cases',
    body: CreateCaseRequestSchema,
    response: CaseCreatedSchema,
  }),
  cases: endpoint({
    method: 'GET',
    path: '/api/cases',
    query: CaseListQuerySchema,
    response: CaseListSchema,
  }),
  nearbyCases: endpoint({
    method: 'GET',
    path: '/api/cases/nearby',
    query: NearbyCasesQuerySchema,
    response: NearbyCasesSchema,
  }),
  case: endpoint({ method: 'GET', path: '/api/cases/{id}', params: Id, response: CaseDetailSchema }),
  caseTimeline: endpoint({
    method: 'GET',
    path: '/api/cases/{id}/timeline',
    params: Id,
    response: CaseTimelineSchema,
  }),
  caseAction: endpoint({
    method: 'POST',
    path: '/api/cases/{id}/actions/{action}',
    params: z.object({ id: z.number().int(), action: CaseActionSchema }),
    body: z.looseObject({ expectedVersion: z.number().int().optional() }),
    response: CaseDetailSchema,
  }),
  dispatchPreview: endpoint({
    method: 'GET',
    path: '/api/cases/{id}/dispatch-preview',
    params: Id,
    query: DispatchPreviewQuerySchema,
    response: DispatchPreviewSchema,
  }),
  casePhotos: endpoint({
    method: 'POST',
    path: '/api/cases/{id}/photos',
    params: Id,
    query: CasePhotoQuerySchema,
    body: z.unknown(),
    response: CasePhotoSchema,
  }),

  queue: endpoint({
    method: 'GET',
    path: '/api/queues/mine',
    query: QueueQuerySchema,
    response: QueueResponseSchema,
  }),
  notifications: endpoint({
    method: 'GET',
    path: '/api/notifications',
    query: NotificationQuerySchema,
    response: NotificationListSchema,
  }),
  readNotification: endpoint({
    method: 'POST',
    path: '/api/notifications/{id}/read',
    params: Id,
    response: z.object({ id: z.number().int(), readAt: z.string() }),
  }),

  taxonomy: endpoint({
    method: 'GET',
    path: '/api/taxonomy',
    query: z.object({ all: z.enum(['1']).optional() }),
    response: TaxonomyTreeSchema,
  }),
  createTaxonomyItem: endpoint({
    method: 'POST',
    path: '/api/taxonomy/items',
    body: CreateTaxonomyItemRequestSchema,
    response: TaxonomyItemSchema,
  }),
  updateTaxonomyItem: endpoint({
    method: 'PATCH',
    path: '/api/taxonomy/items/{code}',
    params: Code,
    body: UpdateTaxonomyItemRequestSchema,
    response: TaxonomyItemSchema,
  }),

  calendar: endpoint({ method: 'GET', path: '/api/calendar', response: CalendarSummarySchema }),
  calendarYear: endpoint({
    method: 'GET',
    path: '/api/calendar/{year}',
    params: z.object({ year: z.number().int() }),
    response: CalendarYearSchema,
  }),
  putCalendarYear: endpoint({
    method: 'PUT',
    path: '/api/calendar/{year}',
    params: z.object({ year: z.number().int() }),
    body: PutCalendarYearRequestSchema,
    response: CalendarYearSchema,
  }),

  kpis: endpoint({ method: 'GET', path: '/api/kpis', query: KpiQuerySchema, response: KpiReportSchema }),
  kpiTrend: endpoint({
    method: 'GET',
    path: '/api/kpis/trend',
    query: KpiTrendQuerySchema,
    response: KpiTrendSchema,
  }),
  gridHeat: endpoint({
    method: 'GET',
    path: '/api/kpis/grid-heat',
    query: KpiQuerySchema,
    response: GridHeatSchema,
  }),

  gridBuildings: endpoint({
    method: 'GET',
    path: '/api/grids/{code}/buildings',
    params: Code,
    response: BuildingListSchema,
  }),
  buildingHouseholds: endpoint({
    method: 'GET',
    path: '/api/buildings/{id}/households',
    params: Id,
    response: HouseholdListSchema,
  }),
  persons: endpoint({
    method: 'GET',
    path: '/api/persons',
    query: PersonListQuerySchema,
    response: PersonListSchema,
  }),
  person: endpoint({ method: 'GET', path: '/api/persons/{id}', params: Id, response: PersonSchema }),
  personHousehold: endpoint({
    method: 'GET',
    path: '/api/persons/{id}/household',
    params: Id,
    response: PersonHouseholdSchema,
  }),
  revealPerson: endpoint({
    method: 'POST',
    path: '/api/persons/{id}/reveal',
    params: Id,
    body: RevealRequestSchema,
    response: RevealResponseSchema,
  }),
  updatePerson: endpoint({
    method: 'PATCH',
    path: '/api/persons/{id}',
    params: Id,
    body: UpdatePersonRequestSchema,
    response: PersonSchema,
  }),
  registryStats: endpoint({
    method: 'GET',
    path: '/api/regions/{code}/registry-stats',
    params: Code,
    query: RegistryStatsQuerySchema,
    response: RegistryStatsSchema,
  }),
  gridSizing: endpoint({
    method: 'GET',
    path: '/api/regions/{code}/grid-sizing',
    params: Code,
    response: GridSizingSchema,
  }),
  /** The xlsx endpoints (templates, upload, error workbook, export) carry raw bytes and are not here. */
  registryImports: endpoint({
    method: 'GET',
    path: '/api/registry/imports',
    query: ImportListQuerySchema,
    response: ImportListSchema,
  }),
  registryImport: endpoint({
    method: 'GET',
    path: '/api/registry/imports/{id}',
    params: Id,
    response: ImportResultSchema,
  }),

  /**
   * Hotline exchange (issue 8). The template, the xlsx / CSV upload and the results files carry raw bytes and are
   * not here; their JSON answer is `HotlineImportResult` (hotline.ts).
   */
  hotlineClassifications: endpoint({
    method: 'GET',
    path: '/api/hotline/classifications',
    response: HotlineClassificationListSchema,
  }),
  putHotlineClassification: endpoint({
    method: 'PUT',
    path: '/api/hotline/classifications/{code}',
    params: HotlineClassificationParamsSchema,
    body: PutHotlineClassificationRequestSchema,
    response: HotlineClassificationSchema,
  }),
  hotlineTriage: endpoint({
    method: 'GET',
    path: '/api/hotline/triage',
    query: HotlineTriageQuerySchema,
    response: HotlineTriageListSchema,
  }),
  resolveHotlineTriage: endpoint({
    method: 'POST',
    path: '/api/hotline/triage/{id}/resolve',
    params: HotlineTriageParamsSchema,
    body: ResolveHotlineTriageRequestSchema,
    response: HotlineResolvedSchema,
  }),
  rejectHotlineTriage: endpoint({
    method: 'POST',
    path: '/api/hotline/triage/{id}/reject',
    params: HotlineTriageParamsSchema,
    body: RejectHotlineTriageRequestSchema,
    response: HotlineResolvedSchema,
  }),

  /** Field work (issue 6): patrols, visits, the offline copy, tasks, diary, compliance. */
  startPatrol: endpoint({
    method: 'POST',
    path: '/api/patrols',
    body: StartPatrolRequestSchema,
    response: PatrolSchema,
  }),
  patrolPoints: endpoint({
    method: 'POST',
    path: '/api/patrols/{id}/points',
    params: Uuid,
    body: PatrolPointsRequestSchema,
    response: PatrolPointsResultSchema,
  }),
  stopPatrol: endpoint({
    method: 'POST',
    path: '/api/patrols/{id}/actions/stop',
    params: Uuid,
    body: StopPatrolRequestSchema,
    response: PatrolSchema,
  }),
  patrols: endpoint({
    method: 'GET',
    path: '/api/patrols',
    query: PatrolListQuerySchema,
    response: PatrolListSchema,
  }),
  patrol: endpoint({ method: 'GET', path: '/api/patrols/{id}', params: Uuid, response: PatrolSchema }),
  patrolTrack: endpoint({
    method: 'GET',
    path: '/api/patrols/{id}/track',
    params: Uuid,
    response: PatrolTrackSchema,
  }),
  createVisit: endpoint({
    method: 'POST',
    path: '/api/visits',
    body: CreateVisitRequestSchema,
    response: VisitSchema,
  }),
  visits: endpoint({
    method: 'GET',
    path: '/api/visits',
    query: VisitListQuerySchema,
    response: VisitListSchema,
  }),
  visitPlan: endpoint({
    method: 'GET',
    path: '/api/grids/{code}/visit-plan',
    params: Code,
    query: VisitPlanQuerySchema,
    response: VisitPlanSchema,
  }),
  offlineGrid: endpoint({
    method: 'GET',
    path: '/api/grids/{code}/offline',
    params: Code,
    response: OfflineGridSchema,
  }),
  fieldTasks: endpoint({ method: 'GET', path: '/api/field/tasks', response: FieldTasksSchema }),
  diary: endpoint({
    method: 'GET',
    path: '/api/diary/{date}',
    params: DateParam,
    query: DiaryQuerySchema,
    response: DiarySchema,
  }),
  putDiaryNotes: endpoint({
    method: 'PUT',
    path: '/api/diary/{date}',
    params: DateParam,
    body: PutDiaryNotesRequestSchema,
    response: DiarySchema,
  }),
  compliance: endpoint({
    method: 'GET',
    path: '/api/compliance',
    query: ComplianceQuerySchema,
    response: ComplianceReportSchema,
  }),
  // Notices, alerts, resident pages (issue 7)
  createAlert: endpoint({
    method: 'POST',
    path: '/api/alerts',
    body: CreateAlertRequestSchema,
    response: AlertSummarySchema,
  }),
  alerts: endpoint({
    method: 'GET',
    path: '/api/alerts',
    query: AlertListQuerySchema,
    response: AlertListSchema,
  }),
  alert: endpoint({ method: 'GET', path: '/api/alerts/{id}', params: Id, response: AlertDetailSchema }),
  acknowledgeAlert: endpoint({
    method: 'POST',
    path: '/api/alerts/{id}/acknowledge',
    params: Id,
    body: AcknowledgeRequestSchema,
    response: AcknowledgementSchema,
  }),
  createSighting: endpoint({
    method: 'POST',
    path: '/api/alerts/{id}/sightings',
    params: Id,
    body: CreateSightingRequestSchema,
    response: SightingSchema,
  }),
  closeAlert: endpoint({
    method: 'POST',
    path: '/api/alerts/{id}/close',
    params: Id,
    body: CloseAlertRequestSchema,
    response: AlertSummarySchema,
  }),
  createNotice: endpoint({
    method: 'POST',
    path: '/api/notices',
    body: CreateNoticeRequestSchema,
    response: NoticeSchema,
  }),
  sentNotices: endpoint({
    method: 'GET',
    path: '/api/notices',
    response: z.object({ items: z.array(NoticeSchema) }),
  }),
  myNotices: endpoint({ method: 'GET', path: '/api/notices/mine', response: MyNoticeListSchema }),
  notice: endpoint({ method: 'GET', path: '/api/notices/{id}', params: Id, response: NoticeSchema }),
  noticeStats: endpoint({
    method: 'GET',
    path: '/api/notices/{id}/stats',
    params: Id,
    response: NoticeStatsSchema,
  }),
  acknowledgeNotice: endpoint({
    method: 'POST',
    path: '/api/notices/{id}/acknowledge',
    params: Id,
    body: AcknowledgeRequestSchema,
    response: AcknowledgementSchema,
  }),
  createPoll: endpoint({
    method: 'POST',
    path: '/api/polls',
    body: CreatePollRequestSchema,
    response: PollSchema,
  }),
  polls: endpoint({
    method: 'GET',
    path: '/api/polls',
    query: PollListQuerySchema,
    response: PollListSchema,
  }),
  poll: endpoint({ method: 'GET', path: '/api/polls/{id}', params: Id, response: StaffPollSchema }),
  closePoll: endpoint({
    method: 'POST',
    path: '/api/polls/{id}/close',
    params: Id,
    response: StaffPollSchema,
  }),
  publicPoll: endpoint({ method: 'GET', path: '/api/public/polls/{id}', params: Id, response: PollSchema }),
  publicGridPage: endpoint({
    method: 'GET',
    path: '/api/public/grids/{code}',
    params: Code,
    response: PublicGridPageSchema,
  }),
  residentCode: endpoint({
    method: 'POST',
    path: '/api/resident/codes',
    body: ResidentCodeRequestSchema,
    response: ResidentCodeSentSchema,
  }),
  residentVerify: endpoint({
    method: 'POST',
    path: '/api/resident/verify',
    body: ResidentVerifyRequestSchema,
    response: ResidentTokenSchema,
  }),
  /** the resident token goes as the client's bearer token (or X-Resident-Token) */
  residentReport: endpoint({
    method: 'POST',
    path: '/api/resident/reports',
    body: ResidentReportRequestSchema,
    response: ResidentReportSchema,
  }),
  residentWish: endpoint({
    method: 'POST',
    path: '/api/resident/wishes',
    body: ResidentReportRequestSchema,
    response: ResidentReportSchema,
  }),
  residentReports: endpoint({
    method: 'GET',
    path: '/api/resident/reports',
    response: ResidentReportListSchema,
  }),
  residentRate: endpoint({
    method: 'POST',
    path: '/api/resident/reports/{id}/rate',
    params: Id,
    body: ResidentRateRequestSchema,
    response: ResidentReportSchema,
  }),
  residentVote: endpoint({
    method: 'POST',
    path: '/api/resident/polls/{id}/votes',
    params: Id,
    body: PollVoteRequestSchema,
    response: PollSchema,
  }),
} as const;

export type Endpoints = typeof endpoints;
export type EndpointName = keyof Endpoints;

type In<S> = S extends z.ZodType ? z.input<S> : never;
type Out<R> = R extends z.ZodType ? z.output<R> : void;

/** What a call takes: only the parts the endpoint declares. */
export type CallArgs<E extends Endpoint> = (E['params'] extends z.ZodType
  ? { params: In<E['params']> }
  : object) &
  (E['query'] extends z.ZodType ? { query?: Partial<In<E['query']>> } : object) &
  (E['body'] extends z.ZodType ? { body: In<E['body']> } : object);
export type CallResult<E extends Endpoint> = Out<E['response']>;

/** An error answered by the server: status, code, message and the per-field messages of a 400. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: ErrorResponse['fields'];
  readonly details: unknown;
  constructor(status: number, body: ErrorResponse) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.fields = body.fields;
    this.details = body.details;
  }
}

export interface ClientOptions {
  /** origin, e.g. '' in the browser (same origin) or 'http://127.0.0.1:3000' */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** bearer token (the browser uses the session cookie instead) */
  token?: () => string | null;
  /** language of error messages */
  language?: () => string;
  /** parse responses with the contract's schema (catches drift in development and tests) */
  validate?: boolean;
}

/** A path or query value as text: strings, numbers and booleans only (objects would become "[object Object]"). */
function scalar(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return value.toString();
  throw new Error(`parameter ${name} must be a string, number or boolean`);
}

export function pathOf(e: Endpoint, params: Record<string, unknown> | undefined): string {
  return e.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(scalar(name, value));
  });
}

export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, scalar(key, value));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

export type Client = {
  [K in EndpointName]: (
    args: CallArgs<Endpoints[K]>,
    init?: { signal?: AbortSignal },
  ) => Promise<CallResult<Endpoints[K]>>;
} & {
  /** the URL of an endpoint, for links and downloads (xlsx, photos) */
  url(path: string, query?: Record<string, unknown>): string;
  /** a case action with its typed input */
  act<A extends CaseAction>(
    id: number,
    action: A,
    input: z.input<(typeof caseActionInputSchemas)[A]> & { expectedVersion?: number },
  ): Promise<z.output<typeof CaseDetailSchema>>;
};

export function createClient(options: ClientOptions = {}): Client {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  async function call(
    e: Endpoint,
    args: Record<string, unknown>,
    init?: { signal?: AbortSignal },
  ): Promise<unknown> {
    const url =
      base + pathOf(e, args.params as Record<string, unknown> | undefined) + queryString(args.query as never);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = options.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    const language = options.language?.();
    if (language) headers['accept-language'] = language;
    let body: Blob | FormData | string | undefined;
    if (args.body !== undefined) {
      if (args.body instanceof Blob || args.body instanceof FormData) body = args.body;
      else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(args.body);
      }
    }
    const response = await doFetch(url, {
      method: e.method,
      headers,
      body: body ?? null,
      credentials: 'same-origin',
      signal: init?.signal ?? null,
    });
    if (response.status === 204 || e.response === null) {
      if (!response.ok) throw await errorOf(response);
      return undefined;
    }
    if (!response.ok) throw await errorOf(response);
    const json: unknown = await response.json();
    return options.validate ? e.response.parse(json) : json;
  }
  const client: Record<string, unknown> = {
    url: (path: string, query?: Record<string, unknown>) => base + path + queryString(query),
    act: (id: number, action: CaseAction, input: Record<string, unknown>) =>
      call(endpoints.caseAction, { params: { id, action }, body: input }),
  };
  for (const [name, e] of Object.entries(endpoints))
    client[name] = (args: Record<string, unknown> = {}, init?: { signal?: AbortSignal }) =>
      call(e, args, init);
  return client as Client;
}

async function errorOf(response: Response): Promise<ApiError> {
  let parsed: ErrorResponse = {
    code: 'HTTP_' + response.status,
    message: response.statusText || 'Request failed',
  };
  try {
    const json: unknown = await response.json();
    const ok = ErrorResponseSchema.safeParse(json);
    if (ok.success) parsed = ok.data;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, parsed);
}
