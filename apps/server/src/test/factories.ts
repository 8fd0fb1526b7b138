import crypto from 'node:crypto';
import type { Role } from '../platform/access.ts';
import { one, sql, type Database } from '../platform/db.ts';
import { insertUser } from '../modules/identity/index.ts';
import { insertRegion, type GeoJsonPolygon } from '../modules/region/region.store.ts';

function square(lng: number, lat: number, size: number): GeoJsonPolygon {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [lng, lat],
        [lng + size, lat],
        [lng + size, lat + size],
        [lng, lat + size],
        [lng, lat],
      ],
    ],
  };
}

/**
 * A small territory of squares near Jiamusi: city 230800 → district 230803 → street 230803001 →
 * communities 230803001001 (west) and 230803001002 (east) → two grids each (…001, …002, side by side).
 */
export const territory = {
  city: '230800',
  district: '230803',
  street: '230803001',
  communityA: '230803001001',
  communityB: '230803001002',
  gridA1: '230803001001001',
  gridA2: '230803001001002',
  gridB1: '230803001002001',
  gridB2: '230803001002002',
} as const;

export async function buildTerritory(db: Database): Promise<typeof territory> {
  const from = new Date('2026-01-01T00:00:00Z');
  const t = territory;
  await db.orm.transaction(async (tx) => {
    await insertRegion(tx, {
      code: t.city,
      level: 'city',
      name: '佳木斯市',
      parentCode: null,
      geometry: square(130.0, 46.6, 0.8),
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.district,
      level: 'district',
      name: '向阳区',
      parentCode: t.city,
      geometry: square(130.2, 46.7, 0.4),
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.street,
      level: 'street',
      name: '西林街道',
      parentCode: t.district,
      geometry: square(130.3, 46.8, 0.2),
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.communityA,
      level: 'community',
      name: '西林社区',
      parentCode: t.street,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [130.3, 46.8],
            [130.4, 46.8],
            [130.4, 47.0],
            [130.3, 47.0],
            [130.3, 46.8],
          ],
        ],
      },
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.communityB,
      level: 'community',
      name: '东林社区',
      parentCode: t.street,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [130.4, 46.8],
            [130.5, 46.8],
            [130.5, 47.0],
            [130.4, 47.0],
            [130.4, 46.8],
          ],
        ],
      },
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.gridA1,
      level: 'grid',
      name: '西林一网格',
      parentCode: t.communityA,
      geometry: square(130.3, 46.8, 0.1),
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.gridA2,
      level: 'grid',
      name: '西林二网格',
      parentCode: t.communityA,
      geometry: square(130.3, 46.9, 0.1),
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.gridB1,
      level: 'grid',
      name: '东林一网格',
      parentCode: t.communityB,
      geometry: square(130.4, 46.8, 0.1),
      validFrom: from,
    });
    await insertRegion(tx, {
      code: t.gridB2,
      level: 'grid',
      name: '东林二网格',
      parentCode: t.communityB,
      geometry: square(130.4, 46.9, 0.1),
      validFrom: from,
    });
  });
  return t;
}

export interface TestUser {
  id: number;
  username: string;
  token: string;
}

let counter = 0;
// A fixed precomputed hash keeps factories fast (argon2 costs ~50 ms per user); password 'test-password'.
let cachedHash: string | undefined;

/** Creates a user with the given grants and a live session; returns the bearer token. */
export async function makeUser(
  db: Database,
  grants: {
    role: Role;
    regionCode?: string | null;
    departmentId?: number | null;
    specialty?: string | null;
  }[],
  name?: string,
): Promise<TestUser> {
  const { hashPassword } = await import('../modules/identity/index.ts');
  cachedHash ??= await hashPassword('test-password');
  counter += 1;
  const username = name ?? `user-${process.pid}-${counter}`;
  const now = new Date('2026-11-20T02:00:00Z');
  const token = crypto.randomBytes(24).toString('base64url');
  const id = await db.orm.transaction(async (tx) => {
    const userId = await insertUser(
      tx,
      { username, displayName: username, password: '', passwordHash: cachedHash!, grants },
      now,
    );
    const tokenHash = crypto.createHash('sha256').update(token).digest('hex');
    await tx.execute(sql`insert into user_session (token_hash, user_id, created_at, last_seen_at, expires_at)
      values (${tokenHash}, ${userId}, ${now.toISOString()}, ${now.toISOString()}, '2100-01-01T00:00:00Z')`);
    return userId;
  });
  return { id, username, token };
}

export async function countRows(db: Database, table: string): Promise<number> {
  const row = await one<{ n: number }>(db.orm, sql`select count(*)::int as n from ${sql.identifier(table)}`);
  return row?.n ?? 0;
}

export const auth = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });
