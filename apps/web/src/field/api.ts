// A small typed fetch for the field app. It takes only the *types* of the contracts (`import type`), never zod or the
// console's createClient, so the phone downloads none of the schemas. `routes` must equal `endpoints` of
// @wangge/contracts (checked by api.test.ts).
import type {
  AlertDetail,
  AlertSummary,
  CaseCreated,
  CasePhoto,
  ComplianceReport,
  CreateCaseRequest,
  CreateVisitRequest,
  CreateSightingRequest,
  Diary,
  FieldTasks,
  Notice,
  OfflineGrid,
  Patrol,
  PatrolPointsRequest,
  PatrolPointsResult,
  PatrolTrack,
  Person,
  PutDiaryNotesRequest,
  Sighting,
  StartPatrolRequest,
  StopPatrolRequest,
  TaxonomyTree,
  UpdatePersonRequest,
  Visit,
  VisitPlan,
} from '@wangge/contracts';

export const routes = {
  login: { method: 'POST', path: '/api/auth/login' },
  me: { method: 'GET', path: '/api/me' },
  taxonomy: { method: 'GET', path: '/api/taxonomy' },
  createCase: { method: 'POST', path: '/api/cases' },
  case: { method: 'GET', path: '/api/cases/{id}' },
  caseAction: { method: 'POST', path: '/api/cases/{id}/actions/{action}' },
  casePhotos: { method: 'POST', path: '/api/cases/{id}/photos' },
  person: { method: 'GET', path: '/api/persons/{id}' },
  updatePerson: { method: 'PATCH', path: '/api/persons/{id}' },
  startPatrol: { method: 'POST', path: '/api/patrols' },
  patrolPoints: { method: 'POST', path: '/api/patrols/{id}/points' },
  stopPatrol: { method: 'POST', path: '/api/patrols/{id}/actions/stop' },
  patrols: { method: 'GET', path: '/api/patrols' },
  patrol: { method: 'GET', path: '/api/patrols/{id}' },
  patrolTrack: { method: 'GET', path: '/api/patrols/{id}/track' },
  createVisit: { method: 'POST', path: '/api/visits' },
  visitPlan: { method: 'GET', path: '/api/grids/{code}/visit-plan' },
  offlineGrid: { method: 'GET', path: '/api/grids/{code}/offline' },
  fieldTasks: { method: 'GET', path: '/api/field/tasks' },
  diary: { method: 'GET', path: '/api/diary/{date}' },
  putDiaryNotes: { method: 'PUT', path: '/api/diary/{date}' },
  compliance: { method: 'GET', path: '/api/compliance' },
  alerts: { method: 'GET', path: '/api/alerts' },
  alert: { method: 'GET', path: '/api/alerts/{id}' },
  acknowledgeAlert: { method: 'POST', path: '/api/alerts/{id}/acknowledge' },
  createSighting: { method: 'POST', path: '/api/alerts/{id}/sightings' },
  myNotices: { method: 'GET', path: '/api/notices/mine' },
  notice: { method: 'GET', path: '/api/notices/{id}' },
  acknowledgeNotice: { method: 'POST', path: '/api/notices/{id}/acknowledge' },
} as const satisfies Record<string, { method: string; path: string }>;

/**
 * Image uploads that are not in `endpoints` (their bodies are raw bytes; the server registers them beside the JSON
 * routes). api.test.ts checks they stay out of `endpoints` and under an endpoint's path.
 */
export const uploadRoutes = {
  sightingPhoto: { method: 'POST', path: '/api/alerts/{id}/sightings/{sightingId}/photo' },
} as const satisfies Record<string, { method: string; path: string }>;

const allRoutes = { ...routes, ...uploadRoutes };
export type RouteName = keyof typeof allRoutes;

export interface Me {
  user: { id: number; username: string; displayName: string; mustChangePassword: boolean };
  roles: { role: string; regionCode: string | null; regionName: string | null }[];
  scope: { regionCode: string; regionPath: string; name: string; level: string }[];
  permissions: string[];
}

/** What each call sends and gets back (types only). */
interface Io {
  login: { body: { username: string; password: string }; out: { token: string; expiresAt: string } };
  me: { out: Me };
  taxonomy: { out: TaxonomyTree };
  createCase: { body: CreateCaseRequest; out: CaseCreated };
  case: { params: { id: number }; out: { id: number; status: string; version: number } };
  caseAction: {
    params: { id: number; action: string };
    body: Record<string, unknown>;
    out: { id: number; status: string };
  };
  casePhotos: { params: { id: number }; query: { clientId: string }; body: Blob; out: CasePhoto };
  person: { params: { id: number }; out: Person };
  updatePerson: { params: { id: number }; body: UpdatePersonRequest; out: Person };
  startPatrol: { body: StartPatrolRequest; out: Patrol };
  patrolPoints: { params: { id: string }; body: PatrolPointsRequest; out: PatrolPointsResult };
  stopPatrol: { params: { id: string }; body: StopPatrolRequest; out: Patrol };
  patrols: { query: { from?: string; to?: string }; out: { items: Patrol[] } };
  patrol: { params: { id: string }; out: Patrol };
  patrolTrack: { params: { id: string }; out: PatrolTrack };
  createVisit: { body: CreateVisitRequest; out: Visit };
  visitPlan: { params: { code: string }; out: VisitPlan };
  offlineGrid: { params: { code: string }; out: OfflineGrid };
  fieldTasks: { out: FieldTasks };
  diary: { params: { date: string }; out: Diary };
  putDiaryNotes: { params: { date: string }; body: PutDiaryNotesRequest; out: Diary };
  compliance: { query: { period?: string; region?: string }; out: ComplianceReport };
  alerts: { query: { status?: 'open' | 'closed' | 'all' }; out: { items: AlertSummary[] } };
  alert: { params: { id: number }; out: AlertDetail };
  acknowledgeAlert: { params: { id: number }; body: { gridCode: string }; out: Acknowledgement };
  createSighting: { params: { id: number }; body: CreateSightingRequest; out: Sighting };
  sightingPhoto: { params: { id: number; sightingId: number }; body: Blob; out: Sighting };
  myNotices: { out: { items: MyNotice[]; unread: number } };
  notice: { params: { id: number }; out: Notice };
  acknowledgeNotice: { params: { id: number }; body: { gridCode: string }; out: Acknowledgement };
}

export interface Acknowledgement {
  gridCode: string;
  acknowledgedAt: string;
  created: boolean;
}

/** A notice to me (`GET /api/notices/mine`): my grids that received it and whether each relayed it. */
export type MyNotice = Notice & {
  deliveredAt: string | null;
  readAt: string | null;
  reason: 'target' | 'escalation_leader' | 'escalation_community';
  grids: { gridCode: string; acknowledgedAt: string | null }[];
};

type Args<N extends RouteName> = Omit<Io[N], 'out'>;

/** An answer that is not 2xx; status 0 when the network failed (offline, timeout). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = '',
    readonly fields: { field: string; message: string }[] | undefined = undefined,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

let tokenStore: () => string | null = () => {
  try {
    return localStorage.getItem('wangge.field.token');
  } catch {
    return null;
  }
};
let languageOf: () => string = () => 'zh-CN';

export function configureApi(options: { token?: () => string | null; language?: () => string }): void {
  if (options.token) tokenStore = options.token;
  if (options.language) languageOf = options.language;
}

export function buildPath(path: string, params?: Record<string, string | number>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

function queryOf(query?: Record<string, string | number | undefined>): string {
  if (!query) return '';
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : '';
}

export async function api<N extends RouteName>(
  name: N,
  args: Args<N> = {} as Args<N>,
  init: { timeoutMs?: number; token?: string } = {},
): Promise<Io[N]['out']> {
  const route = allRoutes[name];
  const a = args as {
    params?: Record<string, string | number>;
    query?: Record<string, string>;
    body?: unknown;
  };
  const url = buildPath(route.path, a.params) + queryOf(a.query);
  const headers: Record<string, string> = { 'accept-language': languageOf() };
  const token = init.token ?? tokenStore();
  if (token) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (a.body instanceof Blob) {
    body = a.body;
    headers['content-type'] = a.body.type || 'image/jpeg';
  } else if (a.body !== undefined) {
    body = JSON.stringify(a.body);
    headers['content-type'] = 'application/json';
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), init.timeoutMs ?? 60_000);
  let response: Response;
  try {
    response = await fetch(url, {
      method: route.method,
      headers,
      body,
      signal: controller.signal,
      credentials: 'omit',
    });
  } catch (e) {
    throw new HttpError(0, e instanceof Error ? e.message : String(e), 'NETWORK');
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return undefined as unknown as Io[N]['out'];
  let json: unknown = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok) {
    const err = (json ?? {}) as {
      message?: string;
      code?: string;
      fields?: { field: string; message: string }[];
    };
    throw new HttpError(
      response.status,
      err.message ?? `HTTP ${response.status}`,
      err.code ?? '',
      err.fields,
    );
  }
  return json as Io[N]['out'];
}

/** An image behind the bearer token (an <img> cannot send it), as a Blob; null when there is none. */
export async function fetchImage(path: string): Promise<Blob | null> {
  const token = tokenStore();
  try {
    const response = await fetch(path, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      credentials: 'omit',
    });
    return response.ok ? await response.blob() : null;
  } catch {
    return null;
  }
}

/** The message of a 400 with its field messages, for the worker to read. */
export function describeError(e: unknown): string {
  if (e instanceof HttpError && e.status === 0)
    return '网络不可用，联网后自动重发 (offline: sent when the network returns)';
  if (e instanceof HttpError) {
    const fields = (e.fields ?? []).map((f) => `${f.field}: ${f.message}`).join('；');
    return fields ? `${e.message}（${fields}）` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
