-- Realtime fan-out across server processes (issue 7): every statement that inserts outbox rows sends one NOTIFY on
-- `wangge_outbox` when its transaction commits (PostgreSQL folds identical notifications of one transaction into
-- one). The payload is empty: listeners (platform/realtime.ts) read the table themselves, so the notification
-- carries no data and nothing is lost when one is dropped; their poll stays as the safety net.
create function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('wangge_outbox', '');
  return null;
end $$;

create trigger outbox_notify after insert on outbox
  for each statement execute function outbox_notify();
