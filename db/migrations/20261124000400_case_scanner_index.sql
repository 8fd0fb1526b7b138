-- The deadline scanner looks for dispatches nobody accepted in time; without this it reads the whole case table.
create index grid_case_accept_due on grid_case (accept_due_at) where status = 'dispatched';
