import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { one, sql, type Executor } from '../../platform/db.ts';
import type { ExtraField, StageLimits } from './taxonomy.service.ts';

/** db/data/taxonomy-default.json: the proposed default of 10 categories and 31 items (10大类31项). */
export const defaultTaxonomyFile = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../../db/data/taxonomy-default.json',
);

interface DefaultTaxonomy {
  departments: Record<string, string>;
  categories: {
    code: string;
    zh: string;
    en: string;
    items: {
      code: string;
      zh: string;
      en: string;
      department: string;
      limits: StageLimits;
      limitsByLevel?: Record<string, Partial<StageLimits>>;
      fixOnSpot: boolean;
      fields: ExtraField[];
    }[];
  }[];
}

export function readDefaultTaxonomy(): DefaultTaxonomy {
  return JSON.parse(fs.readFileSync(defaultTaxonomyFile, 'utf8')) as DefaultTaxonomy;
}

/**
 * Seeds the default taxonomy when the table is empty (idempotent: an edited or partly seeded taxonomy is never
 * touched again). Returns the number of rows written (categories + items).
 */
export async function ensureDefaultTaxonomy(ex: Executor): Promise<number> {
  return ex.transaction(async (tx) => {
    const present = await one<{ n: number }>(tx, sql`select count(*)::int as n from case_category`);
    if ((present?.n ?? 0) > 0) return 0;
    const taxonomy = readDefaultTaxonomy();
    const list = taxonomy.categories.flatMap((category, i) => [
      {
        code: category.code,
        parent_code: null,
        name_zh: category.zh,
        name_en: category.en,
        department_key: null,
        fix_on_spot: false,
        accept_hours: null,
        handle_working_days: null,
        inspect_working_days: null,
        limits_by_level: {},
        fields: [],
        sort: i + 1,
      },
      ...category.items.map((item, j) => ({
        code: item.code,
        parent_code: category.code,
        name_zh: item.zh,
        name_en: item.en,
        department_key: item.department,
        fix_on_spot: item.fixOnSpot,
        accept_hours: item.limits.acceptHours,
        handle_working_days: item.limits.handleWorkingDays,
        inspect_working_days: item.limits.inspectWorkingDays,
        limits_by_level: item.limitsByLevel ?? {},
        fields: item.fields,
        sort: j + 1,
      })),
    ]);
    // Categories come before their items in the list, so the parent reference holds row by row.
    const written = await one<{ n: number }>(
      tx,
      sql`with inserted as (
            insert into case_category (code, parent_code, name_zh, name_en, department_key, fix_on_spot, accept_hours,
              handle_working_days, inspect_working_days, limits_by_level, fields, sort)
            select c.code, c.parent_code, c.name_zh, c.name_en, c.department_key, c.fix_on_spot, c.accept_hours,
              c.handle_working_days, c.inspect_working_days, coalesce(c.limits_by_level, '{}'::jsonb),
              coalesce(c.fields, '[]'::jsonb), c.sort
            from jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as c (code text, parent_code text, name_zh text,
              name_en text, department_key text, fix_on_spot boolean, accept_hours numeric, handle_working_days int,
              inspect_working_days int, limits_by_level jsonb, fields jsonb, sort int)
            order by length(c.code), c.code
            on conflict (code) do nothing
            returning code
          )
          select count(*)::int as n from inserted`,
    );
    return written?.n ?? 0;
  });
}
