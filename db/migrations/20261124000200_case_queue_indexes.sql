-- Indexes for the "my work" queues and the photo quota (issue 3).
-- my_reports: a reporter's cases, newest first.
create index grid_case_reporter on grid_case (reporter_user_id, reported_at);
-- overdue buckets: the few overdue cases inside a region subtree.
create index grid_case_overdue on grid_case (region_path, due_at) where overdue;
-- per-user daily photo quota.
create index case_photo_uploader on case_photo (uploaded_by, created_at);
