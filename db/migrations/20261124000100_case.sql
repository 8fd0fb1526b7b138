-- The case loop (事件闭环): calendar, taxonomy, cases, timeline, departments on a case, outbox, notifications.

-- Chinese public holidays and make-up workdays (调休), editable; a year is "known" once its notice is loaded.
create table calendar_year (
  year int primary key,
  source text not null,
  loaded_at timestamptz not null default now()
);
create table calendar_day (
  day date primary key,
  kind text not null check (kind in ('holiday', 'workday')),
  name text not null,
  year int not null references calendar_year (year) on delete cascade
);

-- Two-level taxonomy: category (2 digits) → item (4 digits). Limits live on items.
create table case_category (
  code text primary key check (code ~ '^\d{2}(\d{2})?$'),
  parent_code text references case_category (code),
  name_zh text not null,
  name_en text not null,
  -- default handling department (department.code key, e.g. 'urban-management'); items only
  department_key text,
  fix_on_spot boolean not null default false,
  accept_hours numeric(6, 2),
  handle_working_days int,
  inspect_working_days int,
  -- per-level overrides: {"district": {"acceptHours": 2, "handleWorkingDays": 3, "inspectWorkingDays": 1}, …}
  limits_by_level jsonb not null default '{}'::jsonb,
  -- extra typed fields the intake form must ask: [{code, type: string|number|date|single|multi, zh, en, required, options}]
  fields jsonb not null default '[]'::jsonb,
  active boolean not null default true,
  sort int not null default 0,
  updated_at timestamptz not null default now(),
  check ((parent_code is null) = (length(code) = 2))
);
create index case_category_parent on case_category (parent_code);

-- Default handling department of an item for a region subtree (the most specific path wins).
create table category_department_rule (
  id bigserial primary key,
  item_code text not null references case_category (code) on delete cascade,
  region_code text not null references region (code),
  region_path text collate "C" not null,
  department_id bigint not null references department (id),
  unique (item_code, region_code)
);

create table case_serial_counter (
  year int not null,
  region_code text not null,
  last_value int not null,
  primary key (year, region_code)
);

create table grid_case (
  id bigserial primary key,
  client_id uuid not null unique,
  serial text not null unique,
  title text not null,
  description text not null default '',
  category_code text not null references case_category (code),
  channel text not null check (channel in ('grid_worker', 'resident', 'wish', 'hotline', 'department', 'leader', 'system')),
  urgent boolean not null default false,
  status text not null check (status in ('reported', 'verifying', 'filed', 'not_filed', 'duplicate', 'dispatched',
    'in_progress', 'suspended', 'responded', 'inspecting', 'closed', 'evaluated')),
  -- where it happened
  location geometry(Point, 4326),
  address text,
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  grid_override_reason text,
  -- who owns it now: the command level (community/street/district/city centre) that must act next
  owner_region_code text not null references region (code),
  owner_region_path text collate "C" not null,
  owner_level text not null,
  lead_department_id bigint references department (id),
  -- reporter: a user, or anonymous with a contact kept private (contact is encrypted; see registry)
  reporter_user_id bigint references app_user (id),
  reporter_name text,
  reporter_contact_cipher text,
  reporter_contact_masked text,
  hotline jsonb,
  people_involved int,
  extra jsonb not null default '{}'::jsonb,
  -- overlays
  supervision text not null default 'none' check (supervision in ('none', 'normal', 'yellow', 'red')),
  instructed boolean not null default false,
  extension_requested boolean not null default false,
  parent_case_id bigint references grid_case (id),
  rework_count int not null default 0,
  evaluation text check (evaluation in ('satisfied', 'basically_satisfied', 'dissatisfied')),
  -- deadlines: one per stage, and the one that applies now (indexed for the scanner and the overdue queues)
  accept_due_at timestamptz,
  handle_due_at timestamptz,
  inspect_due_at timestamptz,
  due_at timestamptz,
  overdue boolean not null default false,
  overdue_since timestamptz,
  deadline_beyond_calendar boolean not null default false,
  -- milestones
  reported_at timestamptz not null,
  filed_at timestamptz,
  dispatched_at timestamptz,
  accepted_at timestamptz,
  responded_at timestamptz,
  closed_at timestamptz,
  evaluated_at timestamptz,
  version int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index grid_case_region on grid_case (region_path, status);
create index grid_case_grid on grid_case (grid_code, status);
create index grid_case_owner on grid_case (owner_region_path, status);
create index grid_case_lead_department on grid_case (lead_department_id, status);
create index grid_case_due on grid_case (due_at) where status not in ('closed', 'evaluated', 'not_filed', 'duplicate');
create index grid_case_reported on grid_case (reported_at);
create index grid_case_location on grid_case using gist (location);
create index grid_case_parent on grid_case (parent_case_id);

-- Departments on a case: lead (主办), co-handling (协办), cc (抄告).
create table case_department (
  case_id bigint not null references grid_case (id) on delete cascade,
  department_id bigint not null references department (id),
  role text not null check (role in ('lead', 'co', 'cc')),
  status text not null default 'pending' check (status in ('pending', 'accepted', 'returned', 'responded')),
  assigned_at timestamptz not null,
  primary key (case_id, department_id)
);
create index case_department_department on case_department (department_id, status);

-- The timeline is the case's history and its audit: every transition appends one row in the same transaction.
create table case_timeline (
  id bigserial primary key,
  case_id bigint not null references grid_case (id) on delete cascade,
  at timestamptz not null,
  actor_id bigint,
  actor_role text,
  action text not null,
  from_status text,
  to_status text,
  comment text,
  data jsonb not null default '{}'::jsonb,
  attachments jsonb not null default '[]'::jsonb
);
create index case_timeline_case on case_timeline (case_id, id);
create index case_timeline_action_at on case_timeline (action, at);

create table case_photo (
  id bigserial primary key,
  case_id bigint references grid_case (id) on delete cascade,
  storage_key text not null unique,
  content_type text not null,
  bytes int not null,
  width int,
  height int,
  uploaded_by bigint references app_user (id),
  created_at timestamptz not null default now()
);
create index case_photo_case on case_photo (case_id);

-- After-commit work: written in the same transaction as the change, processed after it commits.
create table outbox (
  id bigserial primary key,
  topic text not null,
  payload jsonb not null,
  created_at timestamptz not null,
  available_at timestamptz not null,
  attempts int not null default 0,
  processed_at timestamptz,
  last_error text
);
create index outbox_pending on outbox (available_at, id) where processed_at is null;

-- In-app notifications to the next owner of a case.
create table notification (
  id bigserial primary key,
  user_id bigint not null references app_user (id) on delete cascade,
  kind text not null,
  case_id bigint references grid_case (id) on delete cascade,
  title text not null,
  body text not null default '',
  source_outbox_id bigint,
  created_at timestamptz not null,
  read_at timestamptz,
  unique (user_id, source_outbox_id)
);
create index notification_user on notification (user_id, read_at, id);
