-- Reaching people (issue 7): alerts (紧急协查: missing persons, emergencies), notices (通知) with per-recipient
-- delivery and per-grid relay (已转达), the residents' side (phone verification, reports, wishes) and polls.

-- An alert reaches every grid of its target region at once; each grid acknowledges, anyone in it posts sightings.
create table alert (
  id bigserial primary key,
  client_id uuid not null unique,
  kind text not null check (kind in ('missing_person', 'emergency')),
  title text not null,
  description text not null,
  target_region_code text not null references region (code),
  target_region_path text collate "C" not null,
  last_seen_location geometry(Point, 4326),
  last_seen_at timestamptz,
  last_seen_place text,
  -- the photo (re-encoded JPEG without metadata); not served on resident routes once closed
  photo_key text,
  photo_width int,
  photo_height int,
  status text not null default 'open' check (status in ('open', 'closed')),
  outcome text check (outcome in ('found', 'lifted')),
  close_note text,
  closed_at timestamptz,
  closed_by bigint references app_user (id),
  grid_count int not null,
  created_by bigint not null references app_user (id),
  created_at timestamptz not null,
  check ((status = 'open') = (outcome is null))
);
create index alert_target on alert (target_region_path);
create index alert_open on alert (status, created_at);

-- One row per grid of the area, inserted set-based when the alert is created.
create table alert_grid (
  alert_id bigint not null references alert (id) on delete cascade,
  grid_code text not null references region (code),
  grid_path text collate "C" not null,
  acknowledged_at timestamptz,
  acknowledged_by bigint references app_user (id),
  primary key (alert_id, grid_code)
);
create index alert_grid_path on alert_grid (grid_path);

create table alert_sighting (
  id bigserial primary key,
  alert_id bigint not null references alert (id) on delete cascade,
  client_id uuid not null unique,
  note text not null,
  location geometry(Point, 4326) not null,
  seen_at timestamptz not null,
  grid_code text references region (code),
  photo_key text,
  reported_by bigint not null references app_user (id),
  created_at timestamptz not null
);
create index alert_sighting_alert on alert_sighting (alert_id, id);

-- A notice: to staff of a region subtree, chosen grids or roles, or to the residents of an area (public).
create table notice (
  id bigserial primary key,
  client_id uuid not null unique,
  title text not null,
  body text not null,
  target_kind text not null check (target_kind in ('region', 'grids', 'roles', 'residents')),
  -- the region the sender chose (kinds region, roles, residents) or the lowest region covering the chosen grids
  region_code text not null references region (code),
  region_path text collate "C" not null,
  grid_codes text[],
  roles text[],
  public boolean not null,
  remind_after_minutes int check (remind_after_minutes is null or remind_after_minutes > 0),
  status text not null check (status in ('scheduled', 'published')),
  publish_at timestamptz not null,
  published_at timestamptz,
  grid_count int not null default 0,
  recipient_count int not null default 0,
  created_by bigint not null references app_user (id),
  created_at timestamptz not null
);
create index notice_due on notice (publish_at) where status = 'scheduled';
create index notice_public on notice (region_path) where public and status = 'published';

-- Per grid: the worker relayed the notice to the grid group (已转达); reminders and escalations, each once.
create table notice_grid (
  notice_id bigint not null references notice (id) on delete cascade,
  grid_code text not null references region (code),
  grid_path text collate "C" not null,
  acknowledged_at timestamptz,
  acknowledged_by bigint references app_user (id),
  reminded_at timestamptz,
  escalated_leader_at timestamptz,
  escalated_community_at timestamptz,
  primary key (notice_id, grid_code)
);
create index notice_grid_pending on notice_grid (notice_id) where acknowledged_at is null;

-- Per staff recipient: delivered (it reached their list or stream) and read.
create table notice_recipient (
  notice_id bigint not null references notice (id) on delete cascade,
  user_id bigint not null references app_user (id) on delete cascade,
  reason text not null check (reason in ('target', 'escalation_leader', 'escalation_community')),
  added_at timestamptz not null,
  delivered_at timestamptz,
  read_at timestamptz,
  primary key (notice_id, user_id)
);
create index notice_recipient_user on notice_recipient (user_id, read_at);

create table notice_attachment (
  id bigserial primary key,
  notice_id bigint not null references notice (id) on delete cascade,
  storage_key text not null unique,
  content_type text not null,
  bytes int not null,
  width int,
  height int,
  created_at timestamptz not null
);
create index notice_attachment_notice on notice_attachment (notice_id);

-- Residents (no account): a code sent to a phone, then a token bound to the phone's keyed hash.
-- Phones are kept only as keyed hashes (lookup) and sealed (the contact of a case); addresses only as keyed hashes.
create table resident_code (
  id bigserial primary key,
  phone_hash text not null,
  address_hash text not null,
  code_hash text not null,
  attempts int not null default 0,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index resident_code_phone on resident_code (phone_hash, created_at);
create index resident_code_address on resident_code (address_hash, created_at);

create table resident_session (
  id bigserial primary key,
  token_hash text not null unique,
  phone_hash text not null,
  phone_cipher text not null,
  -- the service account (disabled, no password) the phone's reports are made as
  user_id bigint not null references app_user (id),
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index resident_session_phone on resident_session (phone_hash);

-- Reports (随手拍) and wishes (我的心愿) made from a verified phone: the cases, found again by the phone's hash.
create table resident_report (
  case_id bigint primary key references grid_case (id) on delete cascade,
  phone_hash text not null,
  address_hash text not null,
  kind text not null check (kind in ('report', 'wish')),
  created_at timestamptz not null
);
create index resident_report_phone on resident_report (phone_hash, created_at);
create index resident_report_address on resident_report (address_hash, created_at);

-- Polls (民意征集): one vote per verified phone and poll.
create table poll (
  id bigserial primary key,
  client_id uuid not null unique,
  question text not null,
  options jsonb not null,
  region_code text not null references region (code),
  region_path text collate "C" not null,
  open_until timestamptz not null,
  created_by bigint not null references app_user (id),
  created_at timestamptz not null
);
create index poll_region on poll (region_path);

create table poll_vote (
  poll_id bigint not null references poll (id) on delete cascade,
  phone_hash text not null,
  option_index int not null,
  grid_code text not null references region (code),
  created_at timestamptz not null,
  primary key (poll_id, phone_hash)
);
