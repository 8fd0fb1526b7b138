-- Polls for staff (issue 7): a centre closes a poll before its deadline (结束投票), once; the centre's list reads
-- polls by area and newest first.
alter table poll add column closed_at timestamptz;
alter table poll add column closed_by bigint references app_user (id);
create index poll_created on poll (created_at desc, id desc);
