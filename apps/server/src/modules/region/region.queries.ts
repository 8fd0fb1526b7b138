import { one, sql, type Executor } from '../../platform/db.ts';

export type RegionLevel = 'city' | 'district' | 'street' | 'community' | 'grid' | 'microgrid';

export interface RegionRow {
  code: string;
  level: RegionLevel;
  name: string;
  parent_code: string | null;
  path: string;
}

export async function findRegion(ex: Executor, code: string): Promise<RegionRow | undefined> {
  return one<RegionRow>(
    ex,
    sql`select code, level, name, parent_code, path from region where code = ${code}`,
  );
}
