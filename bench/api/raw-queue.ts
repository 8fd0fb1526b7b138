/**
 * W3's raw reference: a grid worker's queue (`GET /api/queues/mine` with no filters) in plain SQL — the same
 * statements `listMyQueue` issues for an actor holding only grid-worker grants (every bucket's count in one
 * statement, then the first page of the first non-empty bucket), named so each connection prepares them once, answered in the same JSON shape.
 */
import type pg from 'pg';

export interface RawQueueQuery {
  userId: number;
  /** the worker's grid paths (one for a scale worker) */
  gridPaths: string[];
  limit: number;
}

type Bucket = 'to_inspect' | 'reported_in_my_grids' | 'my_reports';
const labels: Record<Bucket, { zh: string; en: string }> = {
  to_inspect: { zh: '待核查', en: 'To inspect' },
  reported_in_my_grids: { zh: '网格内上报', en: 'Reported in my grids' },
  my_reports: { zh: '我的上报', en: 'My reports' },
};

/** `insideAny(c.region_path, [path])` for one path: $1 = path, $2 = path + '.', $3 = path + '/'. */
const inGrid = `(c.region_path = $1 or (c.region_path >= $2 and c.region_path < $3))`;
const conditions: Record<Bucket, string> = {
  to_inspect: `${inGrid} and c.status in ('responded', 'inspecting')`,
  reported_in_my_grids: `${inGrid} and c.status in ('reported', 'verifying')`,
  my_reports: `c.reporter_user_id = $1`,
};
const orders: Record<Bucket, string> = {
  to_inspect: 'c.due_at asc nulls last, c.id asc',
  reported_in_my_grids: 'c.reported_at asc, c.id asc',
  my_reports: 'c.reported_at desc, c.id desc',
};

interface ItemRow {
  id: number;
  serial: string;
  title: string;
  status: string;
  channel: string;
  category_code: string;
  urgent: boolean;
  supervision: string;
  grid_code: string;
  grid_name: string;
  owner_region_code: string;
  due_at: Date | null;
  overdue: boolean;
  reported_at: Date;
}

const iso = (value: Date | null) => (value === null ? null : new Date(value).toISOString());

export async function rawQueue(pool: pg.Pool, query: RawQueueQuery) {
  if (query.gridPaths.length !== 1) throw new Error('the raw queue serves a worker of one grid');
  const path = query.gridPaths[0]!;
  const paramsOf = (bucket: Bucket) =>
    bucket === 'my_reports' ? [query.userId] : [path, `${path}.`, `${path}/`];
  const order: Bucket[] = ['to_inspect', 'reported_in_my_grids', 'my_reports'];
  const client = await pool.connect();
  try {
    // one statement for every count, as listMyQueue sends it: $1 path, $2 path., $3 path/, $4 the user
    const counted = await client.query<Record<string, number>>({
      name: 'w3-counts',
      text: `select ${order
        .map(
          (key, i) =>
            `(select count(*)::int from grid_case c where ${conditions[key].replace('$1', key === 'my_reports' ? '$4' : '$1')}) as n${i}`,
        )
        .join(', ')}`,
      values: [path, `${path}.`, `${path}/`, query.userId],
    });
    const buckets = order.map((key, i) => ({
      key,
      label_zh: labels[key].zh,
      label_en: labels[key].en,
      count: counted.rows[0]![`n${i}`]!,
    }));
    const chosen = buckets.find((b) => b.count > 0)?.key ?? order[0]!;
    const params = paramsOf(chosen);
    const found = await client.query<ItemRow>({
      name: `w3-page-${chosen}`,
      text: `select c.id::int as id, c.serial, c.title, c.status, c.channel, c.category_code, c.urgent, c.supervision,
               c.grid_code, (select g.name from region g where g.code = c.grid_code) as grid_name,
               c.owner_region_code, c.due_at, c.overdue, c.reported_at
             from grid_case c where ${conditions[chosen]} order by ${orders[chosen]} limit $${params.length + 1}`,
      values: [...params, query.limit + 1],
    });
    const page = found.rows.slice(0, query.limit);
    return {
      buckets,
      bucket: chosen,
      items: page.map((r) => ({
        id: r.id,
        serial: r.serial,
        title: r.title,
        status: r.status,
        channel: r.channel,
        categoryCode: r.category_code,
        urgent: r.urgent,
        supervision: r.supervision,
        gridCode: r.grid_code,
        gridName: r.grid_name,
        ownerRegionCode: r.owner_region_code,
        dueAt: iso(r.due_at),
        overdue: r.overdue,
        reportedAt: iso(r.reported_at)!,
      })),
      // the worker's queue fits one page at scale; a next page is not part of the comparison
      more: found.rows.length > query.limit,
    };
  } finally {
    client.release();
  }
}
