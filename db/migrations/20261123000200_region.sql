-- Territory: city → district → street → community → grid → micro-grid.
-- path is the materialised region path (e.g. 230800.230803.001.002.003): "inside my subtree" is a prefix range.
create table region (
  code text primary key,
  level text not null check (level in ('city', 'district', 'street', 'community', 'grid', 'microgrid')),
  name text not null,
  parent_code text references region (code),
  path text collate "C" not null unique,
  centroid geometry(Point, 4326),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index region_parent on region (parent_code);
create index region_level on region (level, path);

-- Boundaries with validity intervals: re-gridding closes the old row (valid_to) and opens a new one.
create table region_boundary (
  id bigserial primary key,
  region_code text not null references region (code),
  geom geometry(MultiPolygon, 4326) not null,
  valid_from timestamptz not null,
  valid_to timestamptz,
  created_at timestamptz not null default now(),
  check (valid_to is null or valid_to > valid_from)
);
create unique index region_boundary_current on region_boundary (region_code) where valid_to is null;
create index region_boundary_geom on region_boundary using gist (geom);
create index region_boundary_code on region_boundary (region_code, valid_from);

-- Departments (职能部门) serve regions; handlers belong to one.
create table department (
  id bigserial primary key,
  code text not null unique,
  name text not null,
  name_en text,
  region_code text not null references region (code),
  region_path text collate "C" not null,
  created_at timestamptz not null default now()
);
create index department_path on department (region_path);
