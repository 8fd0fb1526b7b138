-- Hotline exchange (issue 8): 12345 / 96118 work orders imported as cases, the hotline's classification mapped to
-- the taxonomy, a triage queue (分拣) for orders that cannot become a case yet, and the import records.

-- The hotline's 6-digit classification (诉求分类, GB/T 39666 style): XX0000 major (大类), XXYY00 middle (中类),
-- else minor (小类). A code without its own item uses its middle's, then its major's (see hotline.service.ts).
create table hotline_classification (
  code text primary key check (code ~ '^\d{6}$'),
  name text not null,
  level text generated always as (
    case when code ~ '0000$' then 'major' when code ~ '00$' then 'middle' else 'minor' end
  ) stored,
  item_code text references case_category (code) check (item_code is null or item_code ~ '^\d{4}$'),
  updated_by bigint references app_user (id) on delete set null,
  updated_at timestamptz not null default now()
);

-- One work order of a hotline source that became a case.
create table hotline_order (
  case_id bigint primary key references grid_case (id) on delete cascade,
  source text not null,
  work_order_number text not null,
  classification_code text,
  time_limit_at timestamptz,
  imported_by bigint references app_user (id) on delete set null,
  imported_at timestamptz not null,
  unique (source, work_order_number)
);

-- An import (file or JSON batch): idempotent by (created_by, client_id); the answer is kept for replays.
create table hotline_import (
  id bigserial primary key,
  client_id uuid not null,
  created_by bigint not null references app_user (id),
  source text not null,
  format text not null check (format in ('xlsx', 'csv', 'json')),
  total_rows int not null,
  created_rows int not null,
  duplicate_rows int not null,
  triaged jsonb not null default '[]'::jsonb,
  created_at timestamptz not null,
  unique (created_by, client_id)
);

-- 分拣: an order that could not become a case (unmapped classification, no location, invalid row). Never lost:
-- the order as read, with the caller's phone sealed (cipher + mask, never plaintext).
create table hotline_triage (
  id bigserial primary key,
  -- The order's identity: `<source>:<work order number>`, else a keyed hash of the row (re-imports add nothing).
  dedupe_key text not null unique,
  source text not null,
  work_order_number text,
  row_number int,
  "order" jsonb not null,
  reason text not null check (reason in ('unmapped_classification', 'no_location', 'invalid')),
  message text not null,
  fields jsonb not null default '[]'::jsonb,
  -- Who may see it: the located grid, else the importer's area (null: administrators only).
  region_path text collate "C",
  status text not null default 'open' check (status in ('open', 'resolved', 'rejected')),
  case_id bigint references grid_case (id) on delete set null,
  reject_reason text,
  import_id bigint references hotline_import (id) on delete set null,
  created_by bigint references app_user (id) on delete set null,
  created_at timestamptz not null,
  resolved_by bigint references app_user (id) on delete set null,
  resolved_at timestamptz
);
create index hotline_triage_open on hotline_triage (region_path) where status = 'open';

-- The default classification table is seeded by the server (ensureDefaultHotlineClassifications) once the
-- default taxonomy exists, so its item codes can be checked: migrations run before the taxonomy is seeded.
