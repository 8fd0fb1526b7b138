import type {
  CreateTaxonomyItemRequest,
  PutDepartmentRulesRequest,
  TaxonomyTree,
  UpdateTaxonomyItemRequest,
} from '@wangge/contracts';
import { can, requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import type { Clock } from '../../platform/clock.ts';
import { one, pgErrorCode, rows, sql, type Database, type Executor } from '../../platform/db.ts';
import { DomainError, type FieldError } from '../../platform/errors.ts';
import {
  categoryColumns,
  departmentRules,
  getItem,
  itemOfRow,
  type CategoryItem,
  type CategoryRow,
  type DepartmentRule,
  type ExtraField,
} from './taxonomy.service.ts';

/** Reading the tree (everyone signed in) and editing items and their department rules (taxonomy admins). */

export async function listTaxonomy(options: {
  db: Database;
  actor: Actor;
  all: boolean;
}): Promise<TaxonomyTree> {
  // `all` (inactive entries and department rules) is for taxonomy admins; others get the active tree.
  const all = options.all && can(options.actor, 'taxonomy.write');
  const list = await rows<CategoryRow>(
    options.db.orm,
    sql`select ${categoryColumns} from case_category ${all ? sql`` : sql`where active`}
        order by coalesce(parent_code, code), parent_code nulls first, sort, code`,
  );
  const rules = all ? await departmentRules(options.db.orm) : undefined;
  const categories: TaxonomyTree['categories'] = [];
  const byCode = new Map<string, TaxonomyTree['categories'][number]>();
  for (const row of list.filter((r) => r.parent_code === null)) {
    const category = {
      code: row.code,
      nameZh: row.name_zh,
      nameEn: row.name_en,
      active: row.active,
      items: [],
    };
    byCode.set(row.code, category);
    categories.push(category);
  }
  for (const row of list) {
    if (row.parent_code === null) continue;
    const category = byCode.get(row.parent_code);
    if (!category) continue; // an item of an inactive category
    const item = presentItem(itemOfRow(row));
    category.items.push(rules ? { ...item, rules: rules.get(row.code) ?? [] } : item);
  }
  return { categories };
}

export function presentItem(item: CategoryItem) {
  return {
    ...item,
    limitsByLevel: item.limitsByLevel as Record<string, Partial<CategoryItem['limits']>>,
  };
}

/** Field definitions that make sense: unique codes, options exactly on choice fields, unique option values. */
export function fieldDefinitionProblems(fields: ExtraField[], prefix = 'body.fields'): FieldError[] {
  const problems: FieldError[] = [];
  const codes = new Set<string>();
  fields.forEach((field, i) => {
    if (codes.has(field.code))
      problems.push({ field: `${prefix}.${i}.code`, message: '代码重复 (duplicate code)' });
    codes.add(field.code);
    const choice = field.type === 'single' || field.type === 'multi';
    const options = field.options ?? [];
    if (choice && options.length === 0)
      problems.push({ field: `${prefix}.${i}.options`, message: '选择题需要选项 (a choice needs options)' });
    if (!choice && options.length > 0)
      problems.push({
        field: `${prefix}.${i}.options`,
        message: '只有选择题有选项 (only choices have options)',
      });
    if (new Set(options.map((o) => o.value)).size !== options.length)
      problems.push({ field: `${prefix}.${i}.options`, message: '选项值重复 (duplicate option value)' });
  });
  return problems;
}

function refuse(problems: FieldError[]): never {
  throw new DomainError(
    'VALIDATION_FAILED',
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    problems,
  );
}

async function auditTaxonomy(
  tx: Executor,
  options: {
    actor: Actor;
    requestId: string;
    action: string;
    code: string;
    detail: Record<string, string | number>;
  },
  at: Date,
): Promise<void> {
  await appendAudit(
    tx,
    {
      actorId: options.actor.userId,
      actorRole: null,
      action: options.action,
      objectType: 'case_category',
      objectId: options.code,
      result: 'success',
      requestId: options.requestId,
      detail: options.detail,
    },
    at,
  );
}

interface WriteOptions {
  db: Database;
  clock: Clock;
  actor: Actor;
  requestId: string;
}

export async function createTaxonomyItem(
  options: WriteOptions & { input: CreateTaxonomyItemRequest },
): Promise<CategoryItem> {
  const { db, clock, actor, input } = options;
  requireAccess(actor, 'taxonomy.write');
  const problems = fieldDefinitionProblems(input.fields ?? []);
  if (!input.code.startsWith(input.parentCode))
    problems.push({
      field: 'body.code',
      message: '事项代码应以类别代码开头 (must start with the category code)',
    });
  if (problems.length > 0) refuse(problems);
  const now = clock.now();
  try {
    return await db.orm.transaction(async (tx) => {
      const parent = await one<{ code: string }>(
        tx,
        sql`select code from case_category where code = ${input.parentCode} and parent_code is null`,
      );
      if (!parent) refuse([{ field: 'body.parentCode', message: '类别不存在 (no such category)' }]);
      const inserted = await one<{ code: string }>(
        tx,
        sql`insert into case_category (code, parent_code, name_zh, name_en, department_key, fix_on_spot, accept_hours,
              handle_working_days, inspect_working_days, limits_by_level, fields, active, sort, updated_at)
            values (${input.code}, ${input.parentCode}, ${input.nameZh}, ${input.nameEn}, ${input.departmentKey ?? null},
              ${input.fixOnSpot}, ${input.limits.acceptHours}, ${input.limits.handleWorkingDays},
              ${input.limits.inspectWorkingDays}, ${JSON.stringify(input.limitsByLevel ?? {})}::jsonb,
              ${JSON.stringify(input.fields ?? [])}::jsonb, ${input.active ?? true},
              (select coalesce(max(sort), 0) + 1 from case_category where parent_code = ${input.parentCode}),
              ${now.toISOString()})
            on conflict (code) do nothing returning code`,
      );
      if (!inserted) throw new DomainError('CONFLICT', `事项 ${input.code} 已存在 (item already exists)`);
      await auditTaxonomy(
        tx,
        {
          actor,
          requestId: options.requestId,
          action: 'taxonomy.item_created',
          code: input.code,
          detail: {},
        },
        now,
      );
      return (await getItem(tx, input.code))!;
    });
  } catch (error) {
    if (pgErrorCode(error) === '23505')
      throw new DomainError('CONFLICT', `事项 ${input.code} 已存在 (item already exists)`);
    throw error;
  }
}

export async function updateTaxonomyItem(
  options: WriteOptions & { code: string; patch: UpdateTaxonomyItemRequest },
): Promise<CategoryItem> {
  const { db, clock, actor, code, patch } = options;
  requireAccess(actor, 'taxonomy.write');
  if (patch.fields) {
    const problems = fieldDefinitionProblems(patch.fields);
    if (problems.length > 0) refuse(problems);
  }
  const now = clock.now();
  return db.orm.transaction(async (tx) => {
    const row = await one<CategoryRow>(
      tx,
      sql`select ${categoryColumns} from case_category where code = ${code} and parent_code is not null for update`,
    );
    if (!row) throw new DomainError('NOT_FOUND', '未找到 (not found)');
    const item = itemOfRow(row);
    const limits = { ...item.limits, ...definedOnly(patch.limits ?? {}) };
    const next: CategoryItem = {
      ...item,
      nameZh: patch.nameZh ?? item.nameZh,
      nameEn: patch.nameEn ?? item.nameEn,
      departmentKey: patch.departmentKey === undefined ? item.departmentKey : patch.departmentKey,
      fixOnSpot: patch.fixOnSpot ?? item.fixOnSpot,
      limits,
      limitsByLevel: patch.limitsByLevel ?? item.limitsByLevel,
      fields: patch.fields ?? item.fields,
      active: patch.active ?? item.active,
    };
    await tx.execute(sql`update case_category set name_zh = ${next.nameZh}, name_en = ${next.nameEn},
        department_key = ${next.departmentKey}, fix_on_spot = ${next.fixOnSpot},
        accept_hours = ${next.limits.acceptHours}, handle_working_days = ${next.limits.handleWorkingDays},
        inspect_working_days = ${next.limits.inspectWorkingDays},
        limits_by_level = ${JSON.stringify(next.limitsByLevel)}::jsonb, fields = ${JSON.stringify(next.fields)}::jsonb,
        active = ${next.active}, updated_at = ${now.toISOString()}
      where code = ${code}`);
    await auditTaxonomy(
      tx,
      {
        actor,
        requestId: options.requestId,
        action: 'taxonomy.item_updated',
        code,
        detail: { changed: Object.keys(patch).sort().join(',') },
      },
      now,
    );
    return next;
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Replaces the per-region default departments of an item (the most specific region wins at dispatch). */
export async function replaceDepartmentRules(
  options: WriteOptions & { code: string; input: PutDepartmentRulesRequest },
): Promise<{ itemCode: string; rules: DepartmentRule[] }> {
  const { db, clock, actor, code, input } = options;
  requireAccess(actor, 'taxonomy.write');
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  input.rules.forEach((rule, i) => {
    if (seen.has(rule.regionCode))
      problems.push({ field: `body.rules.${i}.regionCode`, message: '区域重复 (region listed twice)' });
    seen.add(rule.regionCode);
  });
  if (problems.length > 0) refuse(problems);
  const now = clock.now();
  return db.orm.transaction(async (tx) => {
    const item = await one<{ code: string }>(
      tx,
      sql`select code from case_category where code = ${code} and parent_code is not null for update`,
    );
    if (!item) throw new DomainError('NOT_FOUND', '未找到 (not found)');
    const resolved: { regionCode: string; regionPath: string; departmentId: number }[] = [];
    for (const [i, rule] of input.rules.entries()) {
      const region = await one<{ path: string }>(
        tx,
        sql`select path from region where code = ${rule.regionCode}`,
      );
      const department = await one<{ id: number }>(
        tx,
        sql`select id::int as id from department where id = ${rule.departmentId}`,
      );
      if (!region)
        problems.push({ field: `body.rules.${i}.regionCode`, message: '区域不存在 (no such region)' });
      if (!department)
        problems.push({ field: `body.rules.${i}.departmentId`, message: '部门不存在 (no such department)' });
      if (region && department)
        resolved.push({ regionCode: rule.regionCode, regionPath: region.path, departmentId: department.id });
    }
    if (problems.length > 0) refuse(problems);
    // Scoped admins may only set rules inside their regions (out of scope answers 404).
    for (const rule of resolved) requireAccess(actor, 'taxonomy.write', { regionPath: rule.regionPath });
    await tx.execute(sql`delete from category_department_rule where item_code = ${code}`);
    if (resolved.length > 0)
      await tx.execute(sql`insert into category_department_rule (item_code, region_code, region_path, department_id)
        select ${code}, r.region_code, r.region_path, r.department_id
        from jsonb_to_recordset(${JSON.stringify(
          resolved.map((r) => ({
            region_code: r.regionCode,
            region_path: r.regionPath,
            department_id: r.departmentId,
          })),
        )}::jsonb) as r (region_code text, region_path text, department_id bigint)`);
    await tx.execute(sql`update case_category set updated_at = ${now.toISOString()} where code = ${code}`);
    await auditTaxonomy(
      tx,
      {
        actor,
        requestId: options.requestId,
        action: 'taxonomy.rules_replaced',
        code,
        detail: { rules: resolved.length },
      },
      now,
    );
    const rules = await departmentRules(tx, [code]);
    return { itemCode: code, rules: rules.get(code) ?? [] };
  });
}
