-- Registry Excel imports (导入记录): one row per uploaded workbook, whatever its outcome, so a retry with the same
-- client id answers the original result and imports nothing twice. The row errors are kept (JSON, no ID numbers or
-- phones in them); the uploaded file only when it had errors, for the error workbook (错误说明), capped at 20 MB. The
-- file holds ID numbers and phones, so it is sealed like them: the UTF-8 bytes of `v1:<keyId>:…` (AES-256-GCM of
-- the file's base64), with the key id.
create table registry_import (
  id bigserial primary key,
  kind text not null check (kind in ('persons', 'households', 'organisations')),
  mode text not null check (mode in ('all_or_nothing', 'valid_rows')),
  client_id uuid not null,
  created_by bigint not null references app_user (id),
  status text not null check (status in ('imported', 'partially_imported', 'rejected')),
  total_rows int not null check (total_rows >= 0),
  imported_rows int not null check (imported_rows >= 0),
  rejected_rows int not null check (rejected_rows >= 0),
  -- [{ row, column, columnIndex, field, message }], in row order
  errors jsonb not null default '[]'::jsonb,
  error_count int not null default 0,
  -- the data sheet of the upload, for the error workbook
  sheet_name text,
  file bytea check (file is null or octet_length(file) <= 30000000),
  file_key_id text,
  created_at timestamptz not null default now(),
  unique (created_by, client_id)
);
create index registry_import_by_user on registry_import (created_by, created_at desc, id desc);
create index registry_import_recent on registry_import (created_at desc, id desc);
