-- Signed webhooks (issue 8): endpoints registered by admins, one delivery per (endpoint, outbox event), every
-- attempt logged. The fan-out reads the outbox with its own cursor and never marks outbox rows processed, so the
-- notification processor keeps owning them.
create table webhook_endpoint (
  id bigserial primary key,
  url text not null,
  -- HMAC key; shown once at creation, never returned again.
  secret text not null,
  event_types text[] not null,
  active boolean not null default true,
  -- Admin allow-list: may resolve to loopback / private / link-local addresses.
  allow_private boolean not null default false,
  -- Consecutive failed attempts; reset by a success or a resume.
  failure_count int not null default 0,
  paused_at timestamptz,
  created_by bigint references app_user (id) on delete set null,
  created_at timestamptz not null
);

create table webhook_delivery (
  id bigserial primary key,
  endpoint_id bigint not null references webhook_endpoint (id) on delete cascade,
  event_id bigint not null,
  event_type text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  last_status_code int,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null,
  unique (endpoint_id, event_id)
);
create index webhook_delivery_due on webhook_delivery (next_attempt_at, id) where status = 'pending';

create table webhook_attempt (
  id bigserial primary key,
  delivery_id bigint not null references webhook_delivery (id) on delete cascade,
  at timestamptz not null,
  status_code int,
  error text,
  duration_ms int not null
);
create index webhook_attempt_delivery on webhook_attempt (delivery_id, id);

-- How far the fan-out has read the outbox (one row).
create table webhook_cursor (
  id int primary key check (id = 1),
  last_outbox_id bigint not null
);
insert into webhook_cursor (id, last_outbox_id) values (1, 0);
