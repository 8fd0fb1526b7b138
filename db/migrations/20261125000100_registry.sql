-- The registry 一标三实 (standard address + actual people, houses, organisations): buildings, standard
-- addresses, households (户), persons (实有人口), key-population tags (重点人群), organisations (实有单位).
-- Every row that belongs to a place carries its grid and the grid's region path (collate "C", indexed).
-- ID numbers and phones are never stored in the clear: sealed (AES-256-GCM, `v1:<keyId>:…`), with the key id,
-- a keyed lookup hash (HMAC-SHA256) for exact search and de-duplication, and the mask shown to staff.

create table building (
  id bigserial primary key,
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  -- name or number, e.g. '3号楼'
  name text not null,
  kind text not null check (kind in ('residential', 'commercial', 'mixed', 'public', 'industrial', 'bungalow', 'other')),
  floors int check (floors between 1 and 200),
  location geometry(Point, 4326),
  created_at timestamptz not null default now(),
  unique (grid_code, name)
);
create index building_path on building (region_path);

-- Standard address (标准地址): road, number, building, unit, floor, room.
create table address (
  id bigserial primary key,
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  road text not null,
  road_number text,
  building_id bigint references building (id),
  building_name text,
  unit text,
  floor text,
  room text,
  created_at timestamptz not null default now()
);
create index address_path on address (region_path);
create index address_building on address (building_id);

-- Household (户): registered (户籍), floating (流动), rental (出租).
create table household (
  id bigserial primary key,
  kind text not null check (kind in ('registered', 'floating', 'rental')),
  building_id bigint references building (id),
  address_id bigint references address (id),
  unit text,
  room text,
  status text not null default 'active' check (status in ('active', 'moved_out', 'dissolved')),
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  created_at timestamptz not null default now()
);
create index household_path on household (region_path);
create index household_building on household (building_id);

create table person (
  id bigserial primary key,
  name text not null,
  gender text not null check (gender in ('male', 'female', 'unknown')),
  birth_date date,
  id_type text not null check (id_type in ('resident_id', 'passport', 'hk_macao_permit', 'taiwan_permit',
    'foreign_permanent', 'other')),
  id_cipher text not null,
  id_key_id text not null,
  id_hash text not null,
  id_masked text not null,
  phone_cipher text,
  phone_key_id text,
  phone_hash text,
  phone_masked text,
  ethnicity text,
  registered_residence text,
  current_address text,
  work text,
  status text not null default 'active' check (status in ('active', 'moved_out', 'deceased')),
  moved_out_at timestamptz,
  household_id bigint references household (id),
  relation_to_head text check (relation_to_head in ('head', 'spouse', 'child', 'parent', 'grandchild',
    'grandparent', 'sibling', 'child_in_law', 'tenant', 'other')),
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  -- set by the retention job when a long-moved-out person is anonymised (name, ID, phone, addresses cleared)
  anonymised_at timestamptz,
  -- optimistic concurrency: PATCH carries the version it read (expectedVersion), 409 when stale
  version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id_type, id_hash),
  check ((phone_cipher is null) = (phone_hash is null))
);
create index person_path on person (region_path);
create index person_phone_hash on person (phone_hash) where phone_hash is not null;
create index person_household on person (household_id);
create index person_name on person (name collate "C");
create index person_moved_out on person (moved_out_at) where status = 'moved_out' and anonymised_at is null;

-- Key-population tags (重点人群, after GB/T 31000): sensitive (PIPL Art. 28); each belongs to a specialty
-- (civil_affairs, public_security, judicial, health) that professional workers are granted.
create table person_tag (
  id bigserial primary key,
  person_id bigint not null references person (id) on delete cascade,
  kind text not null,
  specialty text not null,
  -- the tag's own fields: corrections period, care needs, guardian…
  fields jsonb not null default '{}'::jsonb,
  region_path text collate "C" not null,
  created_at timestamptz not null default now(),
  unique (person_id, kind)
);
create index person_tag_path on person_tag (region_path, kind);

-- Organisations and places (实有单位).
create table organisation (
  id bigserial primary key,
  name text not null,
  kind text not null check (kind in ('shop', 'firm', 'school', 'clinic', 'rental_house', 'internet_cafe',
    'hazardous_goods', 'restaurant', 'hotel', 'public_venue', 'other')),
  licence_no text,
  safety_name text,
  safety_phone_cipher text,
  safety_phone_key_id text,
  safety_phone_hash text,
  safety_phone_masked text,
  address_id bigint references address (id),
  building_id bigint references building (id),
  location geometry(Point, 4326),
  status text not null default 'active' check (status in ('active', 'closed')),
  grid_code text not null references region (code),
  region_path text collate "C" not null,
  created_at timestamptz not null default now()
);
create index organisation_path on organisation (region_path);
