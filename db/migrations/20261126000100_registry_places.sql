-- Places of the registry 一标三实: standard addresses get a point, organisations and places (实有单位) get
-- optimistic concurrency and inspections (检查), and public components (部件, after GB/T 30428) get their table.

-- Standard address (标准地址): an optional point, inside the address's grid.
alter table address add column location geometry(Point, 4326);
create index address_grid on address (grid_code, road);

-- Organisations: PATCH carries the version it read (expectedVersion), 409 when stale.
alter table organisation add column version int not null default 1;
alter table organisation add column updated_at timestamptz not null default now();
create index organisation_grid on organisation (grid_code, kind);
create index organisation_location on organisation using gist (location);

-- Inspections of an organisation (检查). `client_id` makes a client's retry idempotent.
create table organisation_inspection (
  id bigserial primary key,
  organisation_id bigint not null references organisation (id) on delete cascade,
  client_id uuid not null unique,
  inspected_at timestamptz not null,
  result text not null check (result in ('passed', 'rectify', 'failed')),
  findings text not null default '',
  hazards jsonb not null default '[]'::jsonb,
  -- the deadline for putting things right (整改期限); required when the result is 'rectify'
  rectify_by date,
  inspector_id bigint references app_user (id),
  region_path text collate "C" not null,
  created_at timestamptz not null default now(),
  check (result <> 'rectify' or rectify_by is not null)
);
create index organisation_inspection_latest on organisation_inspection (organisation_id, inspected_at desc);
create index organisation_inspection_path on organisation_inspection (region_path);

-- Public components (部件): code `<community code, 12 digits>-<minor class, 4 digits>-<serial, 6 digits>`,
-- major class (大类, 01–06) and minor class (小类), owner and maintainer departments, state, point.
create table public_component (
  id bigserial primary key,
  code text not null unique check (code ~ '^\d{12}-\d{4}-\d{6}$'),
  major_class text not null check (major_class ~ '^0[1-6]$'),
  minor_class text not null check (minor_class ~ '^0[1-6]\d{2}$' and left(minor_class, 2) = major_class),
  name text not null,
  owner_department_id bigint references department (id),
  maintainer_department_id bigint references department (id),
  state text not null default 'intact' check (state in ('intact', 'damaged', 'lost', 'removed')),
  location geometry(Point, 4326) not null,
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (substr(code, 14, 4) = minor_class)
);
create index public_component_path on public_component (region_path, minor_class);
create index public_component_grid on public_component (grid_code);
create index public_component_location on public_component using gist (location);
