-- Identity: users, role grants scoped by region path, database sessions.
create table app_user (
  id bigserial primary key,
  username text not null unique,
  display_name text not null,
  password_hash text not null,
  status text not null default 'active' check (status in ('active', 'disabled')),
  must_change_password boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One row per (user, role, place). A grid worker with three grids has three rows.
create table user_role (
  id bigserial primary key,
  user_id bigint not null references app_user (id) on delete cascade,
  role text not null check (role in ('admin', 'centre_operator', 'hotline_operator', 'department_handler', 'leader',
    'grid_leader', 'grid_worker', 'professional_worker', 'auxiliary', 'resident', 'auditor')),
  region_code text references region (code),
  region_path text collate "C",
  department_id bigint references department (id),
  specialty text,
  created_at timestamptz not null default now()
);
create index user_role_user on user_role (user_id);
create index user_role_path on user_role (region_path);

create table user_session (
  id bigserial primary key,
  token_hash text not null unique,
  user_id bigint not null references app_user (id) on delete cascade,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  user_agent text
);
create index user_session_user on user_session (user_id);

-- Failed-login throttle, keyed by the name typed (existing or not), so a lockout never reveals whether a user exists.
create table login_throttle (
  username text primary key,
  failures int not null,
  first_failure_at timestamptz not null,
  locked_until timestamptz
);
