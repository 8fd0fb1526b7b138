-- KPI rollup (考核指标汇总): additive counters per district and China day, so a city or district report over a year
-- sums a few thousand rows instead of scanning its cases. Exact with respect to every committed write: writers only
-- append the ids of the cases they touched to case_kpi_dirty (statement triggers on grid_case and case_timeline, one
-- insert per statement, no shared row to update), and case_kpi_drain() moves those cases' contributions from their
-- stored facts to their recomputed facts, set-based. The KPI read path drains before it reads; a job drains every
-- few seconds so a read rarely finds much to do.
-- Definitions are those of kpi.service.ts / docs/domain/kpis.md; a test compares both after a realistic sequence.
--
-- area: the first two segments of the case's grid path (city.district). dim/key: '' / '' (no breakdown),
-- 'category' / category code, 'department' / lead department id ('' for none), 'channel' / channel.
-- Days are China dates (UTC+8, no daylight saving); 'infinity' stands for "no date". span 'd' rows count per day,
-- span 'm' rows per calendar month (day = the 1st): a period reads whole months from 'm' rows and only its partial
-- edge months from 'd' rows.

-- One row per case: what it contributes now (so a change subtracts exactly what was added).
create table case_kpi_fact (
  case_id bigint primary key,
  area text collate "C" not null,
  category_code text not null,
  department_key text not null,
  channel text not null,
  reported_day date not null,
  due_day date not null,
  closed_day date not null,
  -- cohort flags (reported in the period)
  duplicate boolean not null,
  accepted boolean not null,
  filed boolean not null,
  not_filed boolean not null,
  resolved boolean not null,
  responded boolean not null,
  reworked boolean not null,
  rated boolean not null,
  satisfied boolean not null,
  basically_satisfied boolean not null,
  dissatisfied boolean not null,
  open boolean not null,
  -- 应结案: filed (not not_filed/duplicate) with a handling deadline or a closing date
  in_due boolean not null,
  closed_status boolean not null,
  closed_on_time boolean not null,
  overdue_now boolean not null,
  -- the trend's third moment (marked overdue), any status
  overdue_day date not null
);

create table case_kpi_cohort_day (
  area text collate "C" not null,
  dim text not null,
  key text not null,
  span text not null check (span in ('d', 'm')),
  day date not null,
  reported int not null default 0,
  accepted int not null default 0,
  filed int not null default 0,
  not_filed int not null default 0,
  duplicates int not null default 0,
  resolved int not null default 0,
  responded int not null default 0,
  reworked int not null default 0,
  rated int not null default 0,
  satisfied int not null default 0,
  basically_satisfied int not null default 0,
  dissatisfied int not null default 0,
  open int not null default 0,
  primary key (dim, span, area, day, key)
) with (fillfactor = 70); -- room for in-place (HOT) updates: a region's rows stay together on few pages

-- 应结案 by (deadline day, closing day): "deadline or closing in the period" is a filter on the key.
create table case_kpi_due_day (
  area text collate "C" not null,
  dim text not null,
  key text not null,
  span text not null check (span in ('d', 'm')),
  due_day date not null,
  closed_day date not null,
  cases int not null default 0,
  closed_status int not null default 0,
  closed_on_time int not null default 0,
  primary key (dim, span, area, due_day, closed_day, key)
) with (fillfactor = 70);
create index case_kpi_due_day_closed on case_kpi_due_day (dim, span, area, closed_day);

-- The cockpit trend: cases reported, closed (any status) and marked overdue per China day.
create table case_kpi_event_day (
  area text collate "C" not null,
  what text not null check (what in ('reported', 'closed', 'overdue')),
  day date not null,
  cases int not null default 0,
  primary key (area, day, what)
) with (fillfactor = 70);

create table case_kpi_overdue (
  area text collate "C" not null,
  dim text not null,
  key text not null,
  cases int not null default 0,
  primary key (dim, area, key)
);

create function case_kpi_china_day(at timestamptz) returns date
  language sql immutable as $$ select coalesce(((at at time zone 'UTC') + interval '8 hours')::date, 'infinity'::date) $$;

-- The bucket of a day in a span: the day itself, or the 1st of its month ('infinity' stays).
create function case_kpi_bucket(span text, day date) returns date
  language sql immutable as $$
  select case when span = 'd' or day = 'infinity'::date then day else date_trunc('month', day)::date end $$;

-- The cases whose facts may have changed since the last drain. Writers only append here (statement triggers
-- below, one insert per statement); case_kpi_drain() takes the committed rows and brings those cases' facts and
-- counters up to date. No unique key and no index: a writer's row is never merged into a row a drain is about to
-- delete, and rows of a transaction still open stay for the next drain.
create table case_kpi_dirty (
  id bigserial,
  case_id bigint not null
);

-- The facts of the given cases (all cases when ids is null) from their rows and timelines (the same rules as
-- kpi.service.ts). The one definition the rebuild and the drain share. A deleted case has no facts.
create function case_kpi_facts_for(ids bigint[]) returns setof case_kpi_fact
  language sql stable as $$
  select c.id,
         coalesce(substring(c.region_path from '^[^.]+(?:\.[^.]+)?'), c.region_path),
         c.category_code,
         coalesce(c.lead_department_id::text, ''),
         c.channel,
         case_kpi_china_day(c.reported_at),
         case_kpi_china_day(c.handle_due_at),
         case_kpi_china_day(c.closed_at),
         c.status = 'duplicate',
         c.status <> 'duplicate',
         c.status <> 'duplicate' and (c.filed_at is not null or coalesce(t.filed, false)),
         c.status = 'not_filed',
         c.status in ('closed', 'evaluated'),
         c.status <> 'duplicate' and (c.responded_at is not null or coalesce(t.responded, false)),
         c.status <> 'duplicate' and (c.responded_at is not null or coalesce(t.responded, false))
           and (c.rework_count > 0 or coalesce(t.failed, false)),
         c.status <> 'duplicate' and c.evaluation is not null,
         c.status <> 'duplicate' and c.evaluation is not distinct from 'satisfied',
         c.status <> 'duplicate' and c.evaluation is not distinct from 'basically_satisfied',
         c.status <> 'duplicate' and c.evaluation is not distinct from 'dissatisfied',
         c.status not in ('closed', 'evaluated', 'not_filed', 'duplicate'),
         c.status not in ('not_filed', 'duplicate') and (c.handle_due_at is not null or c.closed_at is not null),
         c.status in ('closed', 'evaluated') and c.closed_at is not null,
         c.status in ('closed', 'evaluated') and c.closed_at is not null
           and (c.handle_due_at is null or c.closed_at <= c.handle_due_at),
         c.overdue and c.status not in ('closed', 'evaluated', 'not_filed', 'duplicate'),
         case_kpi_china_day(c.overdue_since)
  from grid_case c
  left join (
    select t.case_id,
           bool_or(t.action in ('file', 'fixOnSpot')) as filed,
           bool_or(t.action = 'respond') as responded,
           bool_or(t.action = 'inspect' and t.data ->> 'result' = 'fail') as failed
    from case_timeline t
    where t.action in ('file', 'fixOnSpot', 'respond', 'inspect') and (ids is null or t.case_id = any (ids))
    group by t.case_id
  ) t on t.case_id = c.id
  where ids is null or c.id = any (ids)
$$;

-- Adds (sign 1) or removes (sign -1) the contributions of the given cases' stored facts (all when ids is null),
-- grouped: one upsert per counter table. Run with EXECUTE so each plan sees the actual ids (an index range for a
-- few, a scan for all).
create function case_kpi_add(ids bigint[], sign int) returns void
  language plpgsql as $fn$
begin
  execute $$
    insert into case_kpi_cohort_day as r (area, dim, key, span, day, reported, accepted, filed, not_filed,
      duplicates, resolved, responded, reworked, rated, satisfied, basically_satisfied, dissatisfied, open)
    select f.area, d.dim, d.key, s.span, case_kpi_bucket(s.span, f.reported_day), $2 * count(*),
           $2 * count(*) filter (where f.accepted), $2 * count(*) filter (where f.filed),
           $2 * count(*) filter (where f.not_filed), $2 * count(*) filter (where f.duplicate),
           $2 * count(*) filter (where f.resolved), $2 * count(*) filter (where f.responded),
           $2 * count(*) filter (where f.reworked), $2 * count(*) filter (where f.rated),
           $2 * count(*) filter (where f.satisfied), $2 * count(*) filter (where f.basically_satisfied),
           $2 * count(*) filter (where f.dissatisfied), $2 * count(*) filter (where f.open)
    from case_kpi_fact f
    cross join lateral (values ('', ''), ('category', f.category_code), ('channel', f.channel),
                               ('department', f.department_key)) d (dim, key)
    cross join (values ('d'), ('m')) s (span)
    where $1 is null or f.case_id = any ($1)
    group by 1, 2, 3, 4, 5
    order by 2, 4, 1, 5, 3 -- in key order: a region's rows on adjacent pages, locks always in the same order
    on conflict (dim, span, area, day, key) do update set
      reported = r.reported + excluded.reported, accepted = r.accepted + excluded.accepted,
      filed = r.filed + excluded.filed, not_filed = r.not_filed + excluded.not_filed,
      duplicates = r.duplicates + excluded.duplicates, resolved = r.resolved + excluded.resolved,
      responded = r.responded + excluded.responded, reworked = r.reworked + excluded.reworked,
      rated = r.rated + excluded.rated, satisfied = r.satisfied + excluded.satisfied,
      basically_satisfied = r.basically_satisfied + excluded.basically_satisfied,
      dissatisfied = r.dissatisfied + excluded.dissatisfied, open = r.open + excluded.open
  $$ using ids, sign;
  execute $$
    insert into case_kpi_due_day as r (area, dim, key, span, due_day, closed_day, cases, closed_status,
      closed_on_time)
    select f.area, d.dim, d.key, s.span, case_kpi_bucket(s.span, f.due_day), case_kpi_bucket(s.span, f.closed_day),
           $2 * count(*), $2 * count(*) filter (where f.closed_status), $2 * count(*) filter (where f.closed_on_time)
    from case_kpi_fact f
    cross join lateral (values ('', ''), ('category', f.category_code), ('channel', f.channel),
                               ('department', f.department_key)) d (dim, key)
    cross join (values ('d'), ('m')) s (span)
    where f.in_due and ($1 is null or f.case_id = any ($1))
    group by 1, 2, 3, 4, 5, 6
    order by 2, 4, 1, 5, 6, 3
    on conflict (dim, span, area, due_day, closed_day, key) do update set
      cases = r.cases + excluded.cases, closed_status = r.closed_status + excluded.closed_status,
      closed_on_time = r.closed_on_time + excluded.closed_on_time
  $$ using ids, sign;
  execute $$
    insert into case_kpi_overdue as r (area, dim, key, cases)
    select f.area, d.dim, d.key, $2 * count(*)
    from case_kpi_fact f
    cross join lateral (values ('', ''), ('category', f.category_code), ('channel', f.channel),
                               ('department', f.department_key)) d (dim, key)
    where f.overdue_now and ($1 is null or f.case_id = any ($1))
    group by 2, 1, 3
    order by 2, 1, 3
    on conflict (dim, area, key) do update set cases = r.cases + excluded.cases
  $$ using ids, sign;
  execute $$
    insert into case_kpi_event_day as r (area, what, day, cases)
    select f.area, e.what, e.day, $2 * count(*)
    from case_kpi_fact f
    cross join lateral (values ('closed', f.closed_day), ('overdue', f.overdue_day),
                               ('reported', f.reported_day)) e (what, day)
    where e.day <> 'infinity'::date and ($1 is null or f.case_id = any ($1))
    group by 1, 3, 2
    order by 1, 3, 2
    on conflict (area, day, what) do update set cases = r.cases + excluded.cases
  $$ using ids, sign;
end $fn$;

-- Drains the queue: takes the committed dirty rows, keeps the cases whose recomputed facts differ from the stored
-- ones (a write that changed nothing the KPIs count costs no counter update), subtracts their stored facts and adds
-- the new ones, set-based. One drain at a time (the advisory lock); each statement sees what was committed before
-- it started, so a write committed during a drain is either seen by it or left in the queue for the next one.
-- Returns the number of cases taken from the queue.
create function case_kpi_drain() returns int
  language plpgsql as $$
declare
  ids bigint[];
  changed bigint[];
begin
  if not exists (select 1 from case_kpi_dirty) then return 0; end if;
  perform pg_advisory_xact_lock(2026112800200);
  with taken as (delete from case_kpi_dirty returning case_id)
  select array_agg(distinct case_id) into ids from taken;
  if ids is null then return 0; end if;
  execute $q$
    select array_agg(coalesce(n.case_id, o.case_id))
    from case_kpi_facts_for($1) n
    full join (select * from case_kpi_fact where case_id = any ($1)) o on o.case_id = n.case_id
    where n is distinct from o
  $q$ into changed using ids;
  if changed is not null then
    perform case_kpi_add(changed, -1);
    delete from case_kpi_fact where case_id = any (changed);
    execute 'insert into case_kpi_fact select * from case_kpi_facts_for($1)' using changed;
    perform case_kpi_add(changed, 1);
    -- counters that fell to zero (a case no longer overdue) are not kept
    delete from case_kpi_overdue where cases = 0;
  end if;
  return cardinality(ids);
end $$;

-- Rebuilds facts and counters from scratch (the migration; bulk seeds, where it beats draining millions of rows).
-- The truncate waits for writers still holding the queue and each later statement sees their commits, so nothing
-- written before or during the rebuild is lost.
create function case_kpi_rebuild() returns void
  language plpgsql as $$
begin
  perform pg_advisory_xact_lock(2026112800200);
  truncate case_kpi_dirty, case_kpi_fact, case_kpi_cohort_day, case_kpi_due_day, case_kpi_event_day,
    case_kpi_overdue;
  insert into case_kpi_fact select * from case_kpi_facts_for(null);
  perform case_kpi_add(null, 1);
end $$;

-- Writers record which cases changed: one insert per statement, whatever its size.
create function case_kpi_mark_cases() returns trigger
  language plpgsql as $$
begin
  insert into case_kpi_dirty (case_id) select id from changed;
  return null;
end $$;

create function case_kpi_mark_timeline() returns trigger
  language plpgsql as $$
begin
  insert into case_kpi_dirty (case_id)
  select distinct case_id from changed where action in ('file', 'fixOnSpot', 'respond', 'inspect');
  return null;
end $$;

select case_kpi_rebuild();
-- statistics for the first reads (the tables are new; autovacuum would take a while)
analyze case_kpi_fact, case_kpi_cohort_day, case_kpi_due_day, case_kpi_event_day, case_kpi_overdue;

create trigger case_kpi_case_inserted after insert on grid_case
  referencing new table as changed for each statement execute function case_kpi_mark_cases();
create trigger case_kpi_case_updated after update on grid_case
  referencing new table as changed for each statement execute function case_kpi_mark_cases();
create trigger case_kpi_case_deleted after delete on grid_case
  referencing old table as changed for each statement execute function case_kpi_mark_cases();
create trigger case_kpi_timeline_inserted after insert on case_timeline
  referencing new table as changed for each statement execute function case_kpi_mark_timeline();
