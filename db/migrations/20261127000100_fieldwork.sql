-- Field work of grid workers (网格通, issue 6): patrol sessions with their GPS points, household visits, the work
-- diary's notes, and idempotent photo uploads. Every create from the phone carries an id generated there, so a
-- replay from the outbox finds the original and adds nothing.

-- 一巡: a patrol session. The id is generated on the phone. The grid's path is copied for scope checks.
-- Counters (points, distance, flags) are recomputed from the points after every batch.
create table patrol (
  id uuid primary key,
  user_id bigint not null references app_user (id),
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  started_at timestamptz not null,
  ended_at timestamptz,
  point_count int not null default 0,
  distance_m double precision not null default 0,
  outside_grid int not null default 0,
  impossible_speed int not null default 0,
  repeated_coordinates int not null default 0,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (ended_at is null or ended_at >= started_at)
);
create index patrol_user_started on patrol (user_id, started_at);
create index patrol_path_started on patrol (region_path, started_at);

-- One GPS fix; (patrol, instant) is unique, so a re-sent point adds nothing. Flags are the anti-spoofing checks.
create table patrol_point (
  patrol_id uuid not null references patrol (id) on delete cascade,
  at timestamptz not null,
  lng double precision not null,
  lat double precision not null,
  geom geometry(Point, 4326) not null,
  accuracy real,
  outside_grid boolean not null default false,
  impossible_speed boolean not null default false,
  repeated_coordinates boolean not null default false,
  primary key (patrol_id, at)
);

-- Batches of points received, by the id the phone gave them: a replayed batch is recognised and adds nothing.
create table patrol_batch (
  batch_id uuid primary key,
  patrol_id uuid not null references patrol (id) on delete cascade,
  accepted int not null,
  received_at timestamptz not null
);

-- 两访: a visit to a household; client_id is generated on the phone.
create table household_visit (
  id bigserial primary key,
  client_id uuid not null unique,
  household_id bigint not null references household (id),
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  user_id bigint not null references app_user (id),
  kind text not null check (kind in ('routine', 'care', 'follow_up', 'dispute', 'safety')),
  visited_at timestamptz not null,
  notes text not null default '',
  needs jsonb not null default '[]'::jsonb,
  follow_up_on date,
  location geometry(Point, 4326),
  accuracy real,
  created_at timestamptz not null
);
create index household_visit_household on household_visit (household_id, visited_at);
create index household_visit_path on household_visit (region_path, visited_at, id);
create index household_visit_user on household_visit (user_id, visited_at);

-- 一日志: the notes a worker writes on their day (the rest of the diary is generated from the record).
create table work_diary (
  user_id bigint not null references app_user (id),
  day date not null,
  notes text not null,
  version int not null,
  updated_at timestamptz not null,
  primary key (user_id, day)
);

-- Idempotent photo uploads: the phone's id of the upload, once per case.
alter table case_photo add column client_id uuid;
create unique index case_photo_client on case_photo (case_id, client_id);
