-- The console map's case tiles (GET /tiles/cases/{z}/{x}/{y}.mvt, issue 9 W5) show open cases by default: a GiST
-- index on the points of open cases only, so a tile reads the few hundred open cases in it rather than filtering the
-- tens of thousands of closed ones around them. The predicate is the list's openCondition (terminalCaseStatuses in
-- packages/contracts, in that order) so the planner can prove a query's condition implies it.
create index grid_case_open_location on grid_case using gist (location)
  where status not in ('not_filed', 'duplicate', 'closed', 'evaluated');
