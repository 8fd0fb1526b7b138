-- Open311 GeoReport v2 (issue 8): registered client apps, public cases, what an Open311 client sent with a
-- request, and status updates posted back by external systems (FixMyStreet servicerequestupdates).

-- A client app (civic app, department system). The api_key is shown once; only its sha256 is kept.
create table open311_client (
  id bigserial primary key,
  name text not null,
  api_key_hash text not null unique,
  -- The service account its reports are made as (status 'disabled', no usable password: nobody signs in as it).
  user_id bigint not null references app_user (id),
  -- A department system: its status updates act as that department's handler (报到, 处置反馈).
  department_id bigint references department (id),
  created_by bigint references app_user (id) on delete set null,
  created_at timestamptz not null,
  revoked_at timestamptz
);

-- Public cases are listed by GET /open311/v2/requests; cases reported through Open311 are public.
alter table grid_case add column public boolean not null default false;
create index grid_case_public_reported on grid_case (reported_at) where public;

-- What an Open311 client sent besides the case itself. The reporter's name, email and phone are sealed.
create table open311_request (
  case_id bigint primary key references grid_case (id) on delete cascade,
  client_id bigint not null references open311_client (id),
  -- = grid_case.client_id: GET tokens/{token} answers the service_request_id.
  token uuid not null unique,
  reporter_cipher text,
  media_url text,
  address_id text,
  zipcode text,
  created_at timestamptz not null
);

-- Status updates posted by external systems; update_id (theirs) makes a retried POST idempotent.
create table open311_update (
  id bigserial primary key,
  case_id bigint not null references grid_case (id) on delete cascade,
  client_id bigint not null references open311_client (id),
  external_id text not null,
  status text not null,
  description text not null default '',
  media_url text,
  -- the case timeline row written for it
  timeline_id bigint,
  updated_at timestamptz not null,
  created_at timestamptz not null,
  unique (client_id, external_id)
);
create index open311_update_case on open311_update (case_id, id);
