-- KPIs (GET /api/kpis) filter by region path first, then by a period on one of three moments:
-- reported (受理 cohort), handling deadline and closing (应结案: due to close). Region-leading composite indexes
-- let a district or street report read only its own rows; see docs/domain/kpis.md.
create index grid_case_region_reported on grid_case (region_path, reported_at);
create index grid_case_region_handle_due on grid_case (region_path, handle_due_at);
create index grid_case_region_closed on grid_case (region_path, closed_at);
