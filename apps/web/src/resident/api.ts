// A small typed fetch for the resident pages (居民端 H5). Only the *types* of the contracts (`import type`): the phone
// downloads no zod and no schemas. `routes` must equal `endpoints` of @wangge/contracts (checked by api.test.ts).
import type { PublicGridPage, ResidentReportRequest } from '@wangge/contracts';

export const routes = {
  publicGridPage: { method: 'GET', path: '/api/public/grids/{code}' },
  publicPoll: { method: 'GET', path: '/api/public/polls/{id}' },
  residentCode: { method: 'POST', path: '/api/resident/codes' },
  residentVerify: { method: 'POST', path: '/api/resident/verify' },
  residentReport: { method: 'POST', path: '/api/resident/reports' },
  residentWish: { method: 'POST', path: '/api/resident/wishes' },
  residentReports: { method: 'GET', path: '/api/resident/reports' },
  residentRate: { method: 'POST', path: '/api/resident/reports/{id}/rate' },
  residentVote: { method: 'POST', path: '/api/resident/polls/{id}/votes' },
} as const satisfies Record<string, { method: string; path: string }>;

/**
 * Routes of the server that the typed client of @wangge/contracts does not list (binary bodies and streams); the
 * unit test checks them against the server's OpenAPI paths instead.
 */
export const rawRoutes = {
  residentPhoto: { method: 'POST', path: '/api/resident/reports/{id}/photos' },
  publicGridStream: { method: 'GET', path: '/api/public/grids/{code}/stream' },
} as const;

export type RouteName = keyof typeof routes;

export type Poll = PublicGridPage['polls'][number];
export type PublicAlert = PublicGridPage['alerts'][number];
export type PublicNotice = PublicGridPage['notices'][number];
export type Evaluation = 'satisfied' | 'basically_satisfied' | 'dissatisfied';
export interface ResidentReport {
  caseId: number;
  serial: string;
  kind: 'report' | 'wish';
  title: string;
  status: string;
  gridCode: string;
  reportedAt: string;
  evaluation: Evaluation | null;
  created?: boolean;
}
export interface ResidentToken {
  token: string;
  expiresAt: string;
  phone: string;
}

/** What each call sends and gets back (types only). */
interface Io {
  publicGridPage: { params: { code: string }; out: PublicGridPage };
  publicPoll: { params: { id: number }; out: Poll };
  residentCode: { body: { phone: string }; out: { expiresInSeconds: number; phone: string } };
  residentVerify: { body: { phone: string; code: string }; out: ResidentToken };
  residentReport: { body: ResidentReportRequest; out: ResidentReport };
  residentWish: { body: ResidentReportRequest; out: ResidentReport };
  residentReports: { out: { items: ResidentReport[] } };
  residentRate: {
    params: { id: number };
    body: { evaluation: Evaluation; comment?: string };
    out: ResidentReport;
  };
  residentVote: { params: { id: number }; body: { option: number; gridCode: string }; out: Poll };
}

type Args<N extends RouteName> = Omit<Io[N], 'out'>;

/** An answer that is not 2xx; status 0 when the network failed. */
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

const tokenKey = 'wangge.resident.token';

/** The verified phone's token, kept in localStorage until it expires. */
export function storedToken(): ResidentToken | null {
  try {
    const raw = localStorage.getItem(tokenKey);
    if (!raw) return null;
    const value = JSON.parse(raw) as ResidentToken;
    if (!value.token || Date.parse(value.expiresAt) <= Date.now()) return null;
    return value;
  } catch {
    return null;
  }
}

export function storeToken(value: ResidentToken | null): void {
  try {
    if (value) localStorage.setItem(tokenKey, JSON.stringify(value));
    else localStorage.removeItem(tokenKey);
  } catch {
    // private mode: the token lives as long as the page
  }
}

let languageOf: () => string = () => 'zh-CN';
export function configureApi(options: { language: () => string }): void {
  languageOf = options.language;
}

export function buildPath(path: string, params?: Record<string, string | number>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

async function send(method: string, url: string, body: unknown, timeoutMs = 30_000): Promise<unknown> {
  const headers: Record<string, string> = { 'accept-language': languageOf() };
  const token = storedToken();
  if (token) headers['x-resident-token'] = token.token;
  let payload: BodyInit | undefined;
  if (body instanceof Blob) {
    payload = body;
    headers['content-type'] = body.type || 'image/jpeg';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: payload,
      signal: controller.signal,
      credentials: 'omit',
    });
  } catch (e) {
    throw new HttpError(0, e instanceof Error ? e.message : String(e), 'NETWORK');
  } finally {
    clearTimeout(timer);
  }
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
    // a token that expired or was revoked: verify again
    if (response.status === 401) storeToken(null);
    throw new HttpError(
      response.status,
      err.message ?? `HTTP ${response.status}`,
      err.code ?? '',
      err.fields,
    );
  }
  return json;
}

export async function api<N extends RouteName>(
  name: N,
  args: Args<N> = {} as Args<N>,
): Promise<Io[N]['out']> {
  const route = routes[name];
  const a = args as { params?: Record<string, string | number>; body?: unknown };
  return (await send(route.method, buildPath(route.path, a.params), a.body)) as Io[N]['out'];
}

/** Attaches a photo (JPEG) to a report of mine; the same `clientId` again returns the first photo. */
export async function uploadPhoto(caseId: number, photo: Blob, clientId: string): Promise<void> {
  await send(
    rawRoutes.residentPhoto.method,
    `${buildPath(rawRoutes.residentPhoto.path, { id: caseId })}?clientId=${encodeURIComponent(clientId)}`,
    photo,
    120_000,
  );
}

export function streamUrl(code: string): string {
  return buildPath(rawRoutes.publicGridStream.path, { code });
}
