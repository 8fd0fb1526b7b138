import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rows, sql, type Database } from './db.ts';

export const migrationsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../db/migrations',
);

export interface Migration {
  version: string;
  name: string;
  file: string;
  checksum: string;
  text: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{14}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const [version = '', ...rest] = file.replace(/\.sql$/, '').split('_');
      return {
        version,
        name: rest.join('_'),
        file,
        text,
        checksum: crypto.createHash('sha256').update(text).digest('hex'),
      };
    });
}

/**
 * Applies pending migrations in order, each in its own transaction with its bookkeeping row.
 * Landed migrations are frozen: a changed checksum stops start-up.
 * On PostgreSQL an advisory lock keeps two starting processes from migrating at once.
 */
export async function migrate(
  db: Database,
  dir = migrationsDir,
): Promise<{ applied: string[]; current: string }> {
  await db.execScript(`create table if not exists schema_migration (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  )`);
  const done = new Map(
    (
      await rows<{ version: string; checksum: string }>(
        db.orm,
        sql`select version, checksum from schema_migration`,
      )
    ).map((row) => [row.version, row.checksum]),
  );
  const applied: string[] = [];
  const all = listMigrations(dir);
  for (const migration of all) {
    const checksum = done.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum)
        throw new Error(
          `migration ${migration.file} was changed after it was applied; landed migrations are frozen`,
        );
      continue;
    }
    if (await db.applyMigration(migration.version, migration.name, migration.checksum, migration.text))
      applied.push(migration.file);
  }
  return { applied, current: all.at(-1)?.version ?? 'none' };
}

export async function currentMigration(db: Database): Promise<string> {
  const [row] = await rows<{ version: string | null }>(
    db.orm,
    sql`select max(version) as version from schema_migration`,
  );
  return row?.version ?? 'none';
}
