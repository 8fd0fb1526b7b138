import { monthlyVisitTags } from '@wangge/contracts';
import { one, sql, type Database, type SQL } from '../platform/db.ts';
import { addDays, chinaDate, monthStart, quarterStart } from '../modules/fieldwork/fieldwork.common.ts';

/**
 * Demo field work for the demo city (called at the end of `seedDemoCity`): two weeks of patrols for every grid
 * worker (gw-<grid>, demo-worker, demo-worker2) and household visits in the current quarter.
 *
 * - Patrols: one session on most working days (and a few weekend days) of the 14 China days before `now`'s day,
 *   starting 08:00–09:30; about 70 % last 4–5 h, the rest 1–3.5 h. Points on a slow loop (a Lissajous curve)
 *   around the grid's centre, inside 85 % of the distance to its outline: every 2–5 minutes in the demo accounts'
 *   grids (`detailedGrids`) and for yesterday everywhere, every 45–60 minutes on older sessions elsewhere (the
 *   seed's time budget: ≤ 2 s on PGlite). A few sessions (about 1 in 60) look spoofed: a run of
 *   12 identical fixes, a 1 km jump within 10 s, a fix 1 km east of the grid; their flags are set as the server
 *   would set them.
 * - Visits this quarter: most households 0–2 visits by their grid's worker; monthly households (a member with a
 *   monthly-visit tag) mostly visited this month too.
 * Set-based and deterministic: every "random" number is derived from md5 of the row's key.
 */

/** A deterministic number in [0, 1) from md5 of `key`, using 7 hex digits from `offset`. */
const u = (key: SQL, offset = 1): SQL =>
  sql`(('x' || substr(md5(${key}), ${offset}::int, 7))::bit(28)::int / 268435456.0)`;
/** The same from an md5 hash computed once (a column `hash`). */
const uh = (hash: SQL, offset: number): SQL =>
  sql`(('x' || substr(${hash}, ${offset}::int, 7))::bit(28)::int / 268435456.0)`;

/**
 * A version-4-shaped uuid from an md5 hex string (the version nibble set to 4, the variant to 8): clients made these
 * ids, and the API's schemas accept only RFC 9562 uuids.
 */
const uuidFromMd5 = (hash: SQL): SQL =>
  sql`(substr(${hash}, 1, 12) || '4' || substr(${hash}, 14, 3) || '8' || substr(${hash}, 18, 15))::uuid`;

/** The mean-radius haversine (metres) between two lng/lat pairs, the same formula as the server's. */
const haversineSql = (lng1: SQL, lat1: SQL, lng2: SQL, lat2: SQL): SQL =>
  sql`(2 * 6371008.8 * asin(least(1, sqrt(power(sin(radians(${lat2} - ${lat1}) / 2), 2)
    + cos(radians(${lat1})) * cos(radians(${lat2})) * power(sin(radians(${lng2} - ${lng1}) / 2), 2)))))`;

export async function seedDemoFieldwork(
  db: Database,
  options: { cityCode: string; now: Date; detailedGrids: readonly string[] },
): Promise<Record<string, number>> {
  const started = Date.now();
  const { now } = options;
  const today = chinaDate(now);
  const firstDay = addDays(today, -14);
  const lastDay = addDays(today, -1);
  const quarterFrom = quarterStart(today);
  const monthFrom = monthStart(today);
  const nowIso = now.toISOString();
  const city = options.cityCode;

  const timings: Record<string, number> = {};
  let last = Date.now();
  const counts = await db.orm.transaction(async (tx) => {
    // The grid workers of the city, their grid's centre and extent.
    await tx.execute(sql`create temporary table demo_fw_worker on commit drop as
      select ur.user_id, r.code as grid_code, r.path as region_path,
        ST_X(c.centre) as cx, ST_Y(c.centre) as cy,
        -- the loop stays within 85 % of the distance from the centre to the outline
        0.6 * ST_Distance(c.centre, ST_Boundary(b.geom)) as radius,
        ST_XMax(b.geom) as east
      from user_role ur
      join region r on r.code = ur.region_code and r.level = 'grid'
      join region_boundary b on b.region_code = r.code and b.valid_to is null
      cross join lateral (select case when ST_Covers(b.geom, ST_Centroid(b.geom)) then ST_Centroid(b.geom)
        else ST_PointOnSurface(b.geom) end as centre) c
      where ur.role = 'grid_worker' and (r.path = ${city} or r.path like ${`${city}.%`})`);

    const mark = (name: string) => {
      timings[name] = Date.now() - last;
      last = Date.now();
    };
    mark('fieldworkWorkersMs');
    // One session a day for most working days (weekends now and then), 14 days back.
    const key = sql`'fw:' || w.user_id || ':' || w.grid_code || ':' || d.day`;
    await tx.execute(sql`insert into patrol (id, user_id, grid_code, region_path, started_at, ended_at, created_at,
        updated_at)
      select ${uuidFromMd5(sql`md5(${key})`)}, w.user_id, w.grid_code, w.region_path, s.started_at,
        s.started_at + make_interval(secs => s.seconds), s.started_at, s.started_at
      from demo_fw_worker w
      cross join (select to_char(g, 'YYYY-MM-DD') as day, extract(isodow from g) as dow
                  from generate_series(${firstDay}::date, ${lastDay}::date, interval '1 day') g) d
      cross join lateral (
        select (d.day || 'T08:00:00+08:00')::timestamptz + make_interval(secs => floor(${u(key, 1)} * 5400)) as started_at,
          case when ${u(key, 8)} < 0.7 then 14400 + floor(${u(key, 15)} * 3600)
               else 3600 + floor(${u(key, 15)} * 9000) end as seconds,
          ${u(key, 22)} as attend
      ) s
      where (d.dow < 6 and s.attend < 0.9) or (d.dow >= 6 and s.attend < 0.15)`);

    mark('fieldworkPatrolsMs');
    // Points on a slow loop around the centre: every 2–5 minutes for yesterday and in the demo accounts'
    // grids; every 45–60 minutes on older sessions elsewhere (the seed's time budget).
    await tx.execute(sql`insert into patrol_point (patrol_id, at, lng, lat, geom, accuracy)
      select q.patrol_id, q.at, q.lng, q.lat, ST_SetSRID(ST_MakePoint(q.lng, q.lat), 4326), q.accuracy
      from (
        select p.id as patrol_id, p.started_at + make_interval(secs => i.n * k.step) as at,
          round((w.cx + w.radius * sin(2 * pi() * i.n * k.step / 2220.0 + k.phase)) * 1e7) / 1e7 as lng,
          round((w.cy + w.radius * sin(2 * pi() * i.n * k.step / 3180.0 + k.phase * 1.7)) * 1e7) / 1e7 as lat,
          (5 + floor(k.phase * 3))::real as accuracy
        from patrol p
        join demo_fw_worker w on w.user_id = p.user_id and w.grid_code = p.grid_code
        cross join lateral (select case when p.started_at >= ${`${addDays(today, -1)}T00:00:00+08:00`}::timestamptz
              or p.grid_code in (${sql.join(
                options.detailedGrids.map((code) => sql`${code}`),
                sql`, `,
              )})
            then 120 + floor(${u(sql`p.id::text`, 1)} * 180) else 2700 + floor(${u(sql`p.id::text`, 1)} * 900) end as step,
                                   ${u(sql`p.id::text`, 8)} * 2 * pi() as phase) k
        cross join lateral generate_series(0, floor(extract(epoch from p.ended_at - p.started_at) / k.step)::int) i(n)
        where p.started_at >= ${`${firstDay}T00:00:00+08:00`}::timestamptz
      ) q`);

    mark('fieldworkPointsMs');
    // A few spoofing-like sessions (about 1 in 60): 12 identical fixes replace the end of the session, a fix
    // 1 km east of the grid 10 s after a regular one (a jump: outside the grid and impossibly fast).
    await tx.execute(sql`create temporary table demo_fw_spoof on commit drop as
      select p.id, p.started_at, w.east, w.cy from patrol p
      join demo_fw_worker w on w.user_id = p.user_id and w.grid_code = p.grid_code
      where ${u(sql`'spoof:' || p.id::text`, 1)} < 0.017`);
    await tx.execute(sql`update patrol_point pp set lng = f.lng, lat = f.lat, geom = f.geom,
        repeated_coordinates = true
      from (select s.id, first.lng, first.lat, first.geom, s.started_at + interval '30 minutes' as from_at
            from demo_fw_spoof s
            cross join lateral (select lng, lat, geom from patrol_point where patrol_id = s.id
              and at >= s.started_at + interval '30 minutes' order by at limit 1) first) f
      where pp.patrol_id = f.id and pp.at >= f.from_at
        and pp.at < (select at from patrol_point x where x.patrol_id = f.id and x.at >= f.from_at
                     order by at offset 11 limit 1) + interval '1 second'`);
    await tx.execute(sql`insert into patrol_point (patrol_id, at, lng, lat, geom, accuracy, outside_grid,
        impossible_speed)
      select s.id, s.started_at + interval '10 seconds', s.east + 0.0135, s.cy,
        ST_SetSRID(ST_MakePoint(s.east + 0.0135, s.cy), 4326), 12, true, true
      from demo_fw_spoof s
      on conflict (patrol_id, at) do nothing`);

    mark('fieldworkSpoofMs');
    // Counters, as the server computes them: distance along the points not flagged for speed.
    await tx.execute(sql`update patrol p set point_count = c.n, distance_m = c.meters, outside_grid = c.outside,
        impossible_speed = c.speed, repeated_coordinates = c.repeated
      from (select patrol_id, count(*)::int as n,
              count(*) filter (where outside_grid)::int as outside,
              count(*) filter (where impossible_speed)::int as speed,
              count(*) filter (where repeated_coordinates)::int as repeated,
              coalesce(sum(step) filter (where not impossible_speed), 0) as meters
            from (select patrol_id, outside_grid, impossible_speed, repeated_coordinates,
                    case when plng is null then 0 else ${haversineSql(sql`plng`, sql`plat`, sql`lng`, sql`lat`)} end
                      as step
                  from (select pp.*, lag(lng) over w as plng, lag(lat) over w as plat from patrol_point pp
                        window w as (partition by patrol_id, impossible_speed order by at)) l) t
            group by patrol_id) c
      where p.id = c.patrol_id and p.point_count = 0`);

    mark('fieldworkCountersMs');
    // Visits in the current quarter by the grid's worker: 0–3 a household; a monthly household once this month.
    await tx.execute(sql`create temporary table demo_fw_monthly on commit drop as
      select distinct mp.household_id from person mp join person_tag mt on mt.person_id = mp.id
      where mp.status = 'active' and mp.household_id is not null and mt.kind in (${sql.join(
        monthlyVisitTags.map((k) => sql`${k}`),
        sql`, `,
      )})`);
    await tx.execute(sql`create temporary table demo_fw_grid on commit drop as
      select grid_code, min(user_id) as user_id from demo_fw_worker group by grid_code`);
    const dayMs = 86_400_000;
    const quarterDays = (Date.parse(today) - Date.parse(quarterFrom)) / dayMs + 1;
    const monthDays = (Date.parse(today) - Date.parse(monthFrom)) / dayMs + 1;
    const vkey = sql`'visit:' || h.id || ':' || v.n`;
    await tx.execute(sql`insert into household_visit (client_id, household_id, grid_code, region_path, user_id, kind,
        visited_at, notes, needs, follow_up_on, created_at)
      select ${uuidFromMd5(sql`vh.hash`)}, h.id, h.grid_code, h.region_path, w.user_id,
        case when m.monthly then 'care' when ${uh(sql`vh.hash`, 8)} < 0.1 then 'safety' else 'routine' end,
        x.at, '', case when ${uh(sql`vh.hash`, 15)} < 0.1 then '[{"kind":"elderly_care","text":""}]'::jsonb else '[]'::jsonb end,
        null, x.at
      from household h
      join demo_fw_grid w on w.grid_code = h.grid_code
      left join demo_fw_monthly dm on dm.household_id = h.id
      cross join lateral (select dm.household_id is not null as monthly, ${u(sql`'visits:' || h.id`, 1)} as r) m
      cross join lateral generate_series(1, case when m.monthly and m.r < 0.85 then 2
        when m.r < 0.3 then 0 when m.r < 0.65 then 1 when m.r < 0.95 then 2 else 3 end) v(n)
      cross join lateral (select md5(${vkey}) as hash) vh
      -- 09:00–17:00 China time on a day of the quarter (of this month for a monthly household's first visit)
      cross join lateral (select (case when m.monthly and m.r < 0.85 and v.n = 1 then ${`${monthFrom}T09:00:00+08:00`}::timestamptz
            + make_interval(days => floor(${uh(sql`vh.hash`, 1)} * ${monthDays})::int)
          else ${`${quarterFrom}T09:00:00+08:00`}::timestamptz
            + make_interval(days => floor(${uh(sql`vh.hash`, 1)} * ${quarterDays})::int) end)
          + make_interval(secs => floor(${uh(sql`vh.hash`, 22)} * 28800)) as at) x
      where h.status = 'active' and (h.region_path = ${city} or h.region_path like ${`${city}.%`})
        and x.at < ${nowIso}::timestamptz`);

    mark('fieldworkVisitsMs');
    return one<{ patrols: number; points: number; visits: number }>(
      tx,
      sql`select (select count(*)::int from patrol) as patrols, (select count(*)::int from patrol_point) as points,
            (select count(*)::int from household_visit) as visits`,
    );
  });
  return {
    patrols: counts!.patrols,
    patrolPoints: counts!.points,
    visits: counts!.visits,
    fieldworkMilliseconds: Date.now() - started,
    ...timings,
  };
}
