/**
 * Per-request bodies for W1 and W4, built in the load generator's process (http-load.ts imports this module and calls
 * `makeRequests(args)`). One shared counter hands every request, whichever connection sends it, the next item: W1 a
 * fresh clientId, the next reporter and the next point inside that reporter's grid; W4 the next case, never twice.
 */
import { randomUUID } from 'node:crypto';
import type { RawCaseBody } from './raw-server.ts';

export interface Reporter {
  token: string;
  userId: number;
  role: string;
  name: string;
  place: RawCaseBody['place'];
  /** points (WGS-84) inside the reporter's grid */
  points: [number, number][];
}

export interface CreateArgs {
  kind: 'create';
  side: 'wangge' | 'raw';
  reporters: Reporter[];
}

export interface TransitionArgs {
  kind: 'transition';
  side: 'wangge' | 'raw';
  /** cases to file, one per request, each with the token of the operator whose centre owns it */
  items: { id: number; token: string; actorId: number }[];
  handleDays: number;
}

/** What grid workers report on patrol (items without extra fields). */
export const reports: { categoryCode: string; title: string; description: string }[] = [
  {
    categoryCode: '0301',
    title: '楼道消防通道堆放杂物',
    description: '3单元楼道堆放纸箱和电动车,堵塞消防通道。',
  },
  { categoryCode: '0104', title: '小区物业停车纠纷', description: '业主反映物业擅自调整停车收费,双方争执。' },
  { categoryCode: '0102', title: '邻里家庭纠纷需调解', description: '夫妻争吵影响邻居,请求社区调解。' },
  { categoryCode: '0203', title: '出租房屋人员未登记', description: '该户新入住租户4人,未办理居住登记。' },
  { categoryCode: '0201', title: '可疑人员夜间徘徊', description: '连续两晚有陌生人在车棚附近徘徊。' },
];

type Request = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (request: Request) => Request;
};

export function makeRequests(args: CreateArgs | TransitionArgs): Request[] {
  let next = 0;
  if (args.kind === 'create') {
    const { reporters, side } = args;
    return [
      {
        method: 'POST',
        path: side === 'wangge' ? '/api/cases' : '/w1/cases',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const i = next++;
          const reporter = reporters[i % reporters.length]!;
          const [lng, lat] = reporter.points[Math.floor(i / reporters.length) % reporter.points.length]!;
          const report = reports[i % reports.length]!;
          const body = {
            clientId: randomUUID(),
            title: report.title,
            description: report.description,
            categoryCode: report.categoryCode,
            location: { lng, lat, crs: 'wgs84', accuracy: 8 },
            channel: 'grid_worker',
            urgent: i % 20 === 0,
            extra: {},
          };
          return {
            ...request,
            headers:
              side === 'wangge'
                ? { ...request.headers, authorization: `Bearer ${reporter.token}` }
                : request.headers,
            body: JSON.stringify(
              side === 'wangge'
                ? body
                : {
                    ...body,
                    place: reporter.place,
                    reporter: { userId: reporter.userId, role: reporter.role, name: reporter.name },
                  },
            ),
          };
        },
      },
    ];
  }
  const { items, side, handleDays } = args;
  return [
    {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        const item = items[next++ % items.length]!;
        return side === 'wangge'
          ? {
              ...request,
              path: `/api/cases/${item.id}/actions/file`,
              headers: { ...request.headers, authorization: `Bearer ${item.token}` },
              body: '{}',
            }
          : {
              ...request,
              path: `/w4/cases/${item.id}/file`,
              body: JSON.stringify({ actorId: item.actorId, handleDays }),
            };
      },
    },
  ];
}
