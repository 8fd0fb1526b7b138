import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  can,
  insideAny,
  permissions,
  requireAccess,
  roles,
  rolePermissions,
  scopePaths,
  type Actor,
  type RoleGrant,
} from './access.ts';
import { rows, sql, type Database } from './db.ts';
import type { DomainError } from './errors.ts';
import { testDatabase } from '../test/harness.ts';

// A small tree of paths with look-alike segments (001 / 0010 style traps are impossible with fixed widths,
// but 'a.b' must never contain 'a.bc'), so prefix bugs show up.
const segments = ['230803', '230804', '001', '002', '010', '011'];
const pathArb = fc
  .array(fc.constantFrom(...segments), { minLength: 1, maxLength: 5 })
  .map((parts) => ['230800', ...parts].join('.'));

const grantArb: fc.Arbitrary<RoleGrant> = fc
  .record({
    role: fc.constantFrom(...roles),
    regionPath: fc.option(pathArb, { nil: null }),
    departmentId: fc.constant(null),
    specialty: fc.constant(null),
  })
  .map((g) => ({ ...g, regionCode: g.regionPath ? g.regionPath.split('.').at(-1)! : null }));

const actorArb: fc.Arbitrary<Actor> = fc
  .array(grantArb, { minLength: 0, maxLength: 4 })
  .map((grants) => ({ userId: 1, username: 'x', displayName: 'x', sessionId: 1, grants }));

/** The plain definition, written independently: segment lists, no string tricks. */
function plainCan(actor: Actor, permission: (typeof permissions)[number], targetPath: string): boolean {
  const target = targetPath.split('.');
  return actor.grants.some((grant) => {
    if (!rolePermissions[grant.role].includes(permission)) return false;
    if (grant.regionPath === null) return grant.role === 'admin' || grant.role === 'auditor';
    const scope = grant.regionPath.split('.');
    return scope.length <= target.length && scope.every((segment, i) => target[i] === segment);
  });
}

describe('access decision', () => {
  it('matches the plain definition for random actors and targets', () => {
    fc.assert(
      fc.property(actorArb, fc.constantFrom(...permissions), pathArb, (actor, permission, target) => {
        expect(can(actor, permission, { regionPath: target })).toBe(plainCan(actor, permission, target));
        let outcome: 'ok' | 'NOT_FOUND' | 'FORBIDDEN' = 'ok';
        try {
          requireAccess(actor, permission, { regionPath: target });
        } catch (error) {
          outcome = (error as DomainError).code as 'NOT_FOUND' | 'FORBIDDEN';
        }
        if (plainCan(actor, permission, target)) expect(outcome).toBe('ok');
        else expect(outcome === 'NOT_FOUND' || outcome === 'FORBIDDEN').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a grid worker of one grid reaches nothing of a sibling grid', () => {
    const actor: Actor = {
      userId: 1,
      username: 'w',
      displayName: 'w',
      sessionId: 1,
      grants: [
        {
          role: 'grid_worker',
          regionCode: '230803001001001',
          regionPath: '230800.230803.001.001.001',
          departmentId: null,
          specialty: null,
        },
      ],
    };
    expect(() =>
      requireAccess(actor, 'region.read', { regionPath: '230800.230803.001.001.002' }),
    ).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
    expect(() =>
      requireAccess(actor, 'user.write', { regionPath: '230800.230803.001.001.001' }),
    ).toThrowError(expect.objectContaining({ code: 'FORBIDDEN' }) as Error);
  });
});

describe('scope filter in SQL', () => {
  let db: Database;
  beforeAll(async () => {
    db = await testDatabase();
  });

  it('selects exactly the paths the plain definition puts inside the actor scope', async () => {
    await fc.assert(
      fc.asyncProperty(
        actorArb,
        fc.uniqueArray(pathArb, { minLength: 1, maxLength: 30 }),
        async (actor, targets) => {
          const scope = scopePaths(actor, 'region.read');
          const inside = await rows<{ path: string }>(
            db.orm,
            sql`select t.path from unnest(${sql.raw(`array[${targets.map((t) => `'${t}'`).join(',')}]::text[]`)}) as t(path)
              where ${insideAny(sql`(t.path collate "C")`, scope)}`,
          );
          const expected = targets.filter((t) => plainCan(actor, 'region.read', t)).sort();
          expect(inside.map((r) => r.path).sort()).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
