-- Platform: PostGIS, audit log (append-only, hash-chained), outbox for after-commit work.
create extension if not exists postgis;

create table audit_log (
  id bigint primary key,
  at timestamptz not null,
  actor_id bigint,
  actor_role text,
  action text not null,
  object_type text,
  object_id text,
  result text not null,
  request_id text,
  detail jsonb not null default '{}'::jsonb,
  prev_hash text not null,
  hash text not null
);
create index audit_log_actor_at on audit_log (actor_id, at);
create index audit_log_object on audit_log (object_type, object_id);

-- The head of the chain: one row, locked by every writer so the chain never forks.
create table audit_head (
  id int primary key check (id = 1),
  last_id bigint not null,
  last_hash text not null
);
insert into audit_head (id, last_id, last_hash) values (1, 0, repeat('0', 64));

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
