import { RegionFeatureSchema, type ImportRegionsResponse, type RegionImportError } from '@wangge/contracts';
import { can, requireAccess, type Actor } from '../../platform/access.ts';
import { appendAudit } from '../../platform/audit.ts';
import { one, rows, sql, type Database } from '../../platform/db.ts';
import { DomainError, type ErrorCode } from '../../platform/errors.ts';
import { areaGeometryProblem, planarGeometry } from './region.geometry.ts';
import { levelRank, regionCodeProblems } from './region-code.ts';
import { findRegion, type RegionLevel } from './region.queries.ts';
import {
  boundaryProblems,
  currentBoundary,
  invalidGeometries,
  invalidGeometryMessage,
  lockBoundaries,
  mayWriteUnder,
  tooEarlyMessage,
  writeBoundaryVersion,
  type RegionWriteOptions,
} from './region.service.ts';
import { insertRegion, pathSegment, type AreaGeometry } from './region.store.ts';

/**
 * GeoJSON import and export of boundaries.
 *
 * Import is all-or-nothing: every feature is checked (schema, code rules, parent and scope, geometry validity,
 * inside parent, sibling overlap — between features of the file and against stored regions, on the state the
 * file would leave behind) and if any feature fails nothing is stored and the answer lists one error per bad
 * feature. A feature whose code already exists is a re-gridding: its boundary gets a new version from now (the
 * old one stays in the history) and its name is updated; level and parent must stay as stored (moving a region
 * is refused). A feature equal to what is stored counts as unchanged, so importing an export changes nothing.
 */

interface Candidate {
  index: number;
  code: string;
  name: string;
  level: RegionLevel;
  parent: string | null;
  geometry: AreaGeometry;
}

interface Placed {
  index: number | null;
  path: string;
  level: RegionLevel;
  existing: boolean;
}

function rawLabel(value: unknown): { code: string | null; name: string | null } {
  const properties = (value as { properties?: unknown } | null)?.properties as
    Record<string, unknown> | undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
  return { code: text(properties?.code), name: text(properties?.name) };
}

export async function importRegions(
  options: RegionWriteOptions & { features: unknown[] },
): Promise<ImportRegionsResponse> {
  const { db, clock, actor, requestId, events, features } = options;
  requireAccess(actor, 'region.import');
  const now = clock.now();
  const errors = new Map<number, RegionImportError>();
  const fail = (
    index: number,
    label: { code: string | null; name: string | null },
    error: ErrorCode,
    reason: string,
  ) => {
    if (!errors.has(index)) errors.set(index, { index, code: label.code, name: label.name, error, reason });
  };

  // 1. Shape: schema, coordinates, duplicate codes.
  const candidates: Candidate[] = [];
  const byCode = new Map<string, Candidate>();
  for (const [index, value] of features.entries()) {
    const parsed = RegionFeatureSchema.safeParse(value);
    if (!parsed.success) {
      const reason = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'feature'}: ${i.message}`)
        .join('; ');
      fail(index, rawLabel(value), 'VALIDATION_FAILED', reason);
      continue;
    }
    const { properties, geometry } = parsed.data;
    const label = { code: properties.code, name: properties.name };
    const problem = areaGeometryProblem(geometry);
    if (problem) {
      fail(index, label, 'REGION_INVALID_GEOMETRY', problem);
      continue;
    }
    const first = byCode.get(properties.code);
    if (first) {
      fail(
        index,
        label,
        'VALIDATION_FAILED',
        `代码在文件中重复,另见要素 #${first.index} (duplicate code: see feature #${first.index})`,
      );
      continue;
    }
    const candidate: Candidate = {
      index,
      code: properties.code,
      name: properties.name.trim(),
      level: properties.level,
      parent: properties.parent ?? null,
      geometry: planarGeometry(geometry),
    };
    candidates.push(candidate);
    byCode.set(candidate.code, candidate);
  }
  const labelOf = (c: Candidate) => ({ code: c.code, name: c.name });
  const ordered = [...candidates].sort(
    (a, b) => levelRank(a.level) - levelRank(b.level) || a.index - b.index,
  );

  const counts = await db.orm.transaction(async (tx) => {
    await lockBoundaries(tx);
    const referenced = [...new Set(candidates.flatMap((c) => (c.parent ? [c.code, c.parent] : [c.code])))];
    const stored = new Map(
      (
        await rows<{
          code: string;
          level: RegionLevel;
          name: string;
          parent_code: string | null;
          path: string;
        }>(
          tx,
          sql`select code, level, name, parent_code, path from region
              where code in (select jsonb_array_elements_text(${JSON.stringify(referenced)}::jsonb))`,
        )
      ).map((r) => [r.code, r]),
    );

    // 2. Place each feature under its parent (from the file or stored, in the actor's scope), check its code.
    const placed = new Map<string, Placed>();
    for (const c of ordered) {
      let parent: Placed | null = null;
      if (c.parent) {
        const inFile = byCode.get(c.parent);
        const storedParent = stored.get(c.parent);
        if (inFile) {
          const done = placed.get(c.parent);
          if (errors.has(inFile.index) || (!done && levelRank(inFile.level) < levelRank(c.level))) {
            fail(
              c.index,
              labelOf(c),
              'VALIDATION_FAILED',
              `上级要素 #${inFile.index} 有错误 (parent feature #${inFile.index} has errors)`,
            );
            continue;
          }
          parent = done ?? { index: inFile.index, path: '', level: inFile.level, existing: false };
        } else if (storedParent && can(actor, 'region.import', { regionPath: storedParent.path })) {
          parent = { index: null, path: storedParent.path, level: storedParent.level, existing: true };
        } else {
          fail(
            c.index,
            labelOf(c),
            'NOT_FOUND',
            `上级区域 ${c.parent} 不存在 (unknown parent region ${c.parent})`,
          );
          continue;
        }
      }
      const codeProblems = regionCodeProblems({
        code: c.code,
        level: c.level,
        parent: c.parent && parent ? { code: c.parent, level: parent.level } : null,
      });
      if (codeProblems.length > 0) {
        fail(
          c.index,
          labelOf(c),
          'REGION_INVALID_CODE',
          codeProblems.map((p) => `${p.field}: ${p.message}`).join('; '),
        );
        continue;
      }
      if (!parent && !mayWriteUnder(actor, 'region.import', null)) {
        fail(
          c.index,
          labelOf(c),
          'FORBIDDEN',
          '只有全局管理员可以导入市级区域 (only a system-wide grant may import a city)',
        );
        continue;
      }
      const existing = stored.get(c.code);
      if (existing) {
        if (existing.level !== c.level || existing.parent_code !== c.parent) {
          fail(
            c.index,
            labelOf(c),
            'VALIDATION_FAILED',
            `区域 ${c.code} 已存在,层级或上级不同;不支持移动区域 (exists with another level or parent; moving a region is not supported)`,
          );
          continue;
        }
        placed.set(c.code, { index: c.index, path: existing.path, level: c.level, existing: true });
      } else {
        const segment = pathSegment(c.level, c.code);
        placed.set(c.code, {
          index: c.index,
          path: parent ? `${parent.path}.${segment}` : segment,
          level: c.level,
          existing: false,
        });
      }
    }

    // 3. Geometry validity (PostGIS), for every placed feature in one query.
    const toCheck = ordered.filter((c) => placed.has(c.code));
    const invalid = await invalidGeometries(
      tx,
      toCheck.map((c) => c.geometry),
    );
    const geometryOk = new Set<string>();
    for (const [k, c] of toCheck.entries()) {
      const reason = invalid.get(k);
      if (reason) fail(c.index, labelOf(c), 'REGION_INVALID_GEOMETRY', invalidGeometryMessage(reason));
      else geometryOk.add(c.code);
    }

    // 4. Write the state the file describes (rolled back below if anything failed), then check it as a whole.
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    const changed: string[] = [];
    for (const c of toCheck) {
      const ok = geometryOk.has(c.code);
      const existing = stored.get(c.code);
      if (!existing) {
        // A new region with a bad geometry is still stored (without boundary) so its children can be checked.
        await insertRegion(tx, {
          code: c.code,
          level: c.level,
          name: c.name,
          parentCode: c.parent,
          geometry: ok ? c.geometry : null,
          validFrom: now,
        });
        created += 1;
        if (ok) changed.push(c.code);
        continue;
      }
      if (!ok) continue;
      const same = await one<{ equal: boolean }>(
        tx,
        sql`select coalesce(bool_or(ST_Equals(b.geom, ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(c.geometry)}::text), 4326))), false) as equal
            from region_boundary b where b.region_code = ${c.code} and b.valid_to is null`,
      );
      const renamed = existing.name !== c.name;
      if (renamed)
        await tx.execute(
          sql`update region set name = ${c.name}, updated_at = ${now.toISOString()} where code = ${c.code}`,
        );
      if (same?.equal) {
        if (renamed) updated += 1;
        else unchanged += 1;
        continue;
      }
      const current = await currentBoundary(tx, c.code);
      if (current && now.getTime() <= current.validFrom.getTime()) {
        fail(c.index, labelOf(c), 'VALIDATION_FAILED', tooEarlyMessage(current.validFrom));
        continue;
      }
      await writeBoundaryVersion(tx, c.code, c.geometry, now, now);
      updated += 1;
      changed.push(c.code);
    }
    for (const problem of await boundaryProblems(tx, changed)) {
      const c = byCode.get(problem.code);
      if (c) fail(c.index, labelOf(c), problem.error, problem.message);
    }

    if (errors.size > 0) {
      const list = [...errors.values()].sort((a, b) => a.index - b.index);
      throw new DomainError(
        'REGION_IMPORT_FAILED',
        `导入失败:${list.length} 个要素有错误,未导入任何内容 (import failed: ${list.length} of ${features.length} features have errors; nothing was imported)`,
        undefined,
        { errors: list },
      );
    }
    await appendAudit(
      tx,
      {
        actorId: actor.userId,
        actorRole: null,
        action: 'region.imported',
        objectType: 'region',
        objectId: null,
        result: 'success',
        requestId,
        detail: { features: features.length, created, updated, unchanged },
      },
      now,
    );
    return { created, updated, unchanged };
  });
  if (counts.created + counts.updated > 0) await events.emit();
  return counts;
}

/**
 * The current boundaries of a region's subtree (the region included) as a GeoJSON FeatureCollection text with
 * properties code, name, level, parent — the import format, parents before children. Regions without a
 * boundary are left out.
 */
export async function exportBoundaries(options: {
  db: Database;
  actor: Actor;
  code: string;
}): Promise<{ geojson: string; features: number }> {
  const { db, actor, code } = options;
  const region = await findRegion(db.orm, code);
  if (!region) throw new DomainError('NOT_FOUND', '未找到 (not found)');
  requireAccess(actor, 'region.export', { regionPath: region.path });
  const row = await one<{ geojson: string; features: number }>(
    db.orm,
    sql`select json_build_object(
              'type', 'FeatureCollection',
              'features', coalesce(json_agg(json_build_object(
                  'type', 'Feature',
                  'properties', json_build_object('code', r.code, 'name', r.name, 'level', r.level, 'parent', r.parent_code),
                  'geometry', ST_AsGeoJSON(b.geom)::json
                ) order by r.path), '[]'::json)
            )::text as geojson,
            count(*)::int as features
        from region r
        join region_boundary b on b.region_code = r.code and b.valid_to is null
        where r.path = ${region.path} or (r.path >= ${`${region.path}.`} and r.path < ${`${region.path}/`})`,
  );
  return {
    geojson: row?.geojson ?? '{"type":"FeatureCollection","features":[]}',
    features: row?.features ?? 0,
  };
}
