import crypto from 'node:crypto';
import {
  allocate,
  areaCentroid,
  cityOutline,
  createRandom,
  gaussianDensity,
  massOf,
  partition,
  planeAt,
  roundCoordinate,
  type Point,
  type Ring,
} from './geometry.ts';
import { communityNames, gridName, streetNames } from './names.ts';

export type TerritoryLevel = 'city' | 'district' | 'street' | 'community' | 'grid';

/** One generated region: code, place in the tree, boundary (closed, counter-clockwise, 7 decimals), inner point. */
export interface TerritoryRegion {
  code: string;
  level: TerritoryLevel;
  name: string;
  parentCode: string | null;
  path: string;
  ring: Ring;
  centroid: Point;
}

/** How many children a level gets: the same number under every parent, or a total shared out by population. */
export type LevelCount = { perParent: number } | { total: number };

export interface CitySpec {
  code: string;
  name: string;
  center: Point;
  /** Half-widths of the urban area, east–west and north–south. */
  radiusKm: [number, number];
  /** Population peaks (old town, new town…) on top of a base density: cells are smaller where people are. */
  peaks: { at: Point; sigmaKm: number; weight: number }[];
  districts: { code: string; name: string }[];
  streets: LevelCount;
  communities: LevelCount;
  grids: LevelCount;
  /** Names in code order across the whole city; generated when absent. */
  streetNames?: readonly string[];
  communityNames?: readonly string[];
  lloydIterations?: number;
}

const pad3 = (n: number) => String(n).padStart(3, '0');

function countsFor(count: LevelCount, masses: number[]): number[] {
  const counts = 'perParent' in count ? masses.map(() => count.perParent) : allocate(count.total, masses, 1);
  if (counts.some((c) => c > 999)) throw new Error('at most 999 children per region (3-digit codes)');
  return counts;
}

/** The city's outline alone (cheap): what `generateCity` puts at the top. */
export function outlineOf(spec: CitySpec): Ring {
  return cityOutline({
    center: spec.center,
    radiusKm: spec.radiusKm,
    random: createRandom(`${spec.code}:outline`),
  });
}

/**
 * Generates one city's territory: city → districts → streets → communities → grids. Every level is a Voronoi
 * partition of its parent (see `partition`), so children tile their parent exactly and never overlap. The result
 * depends only on the spec: the random numbers are seeded from the codes.
 */
export function generateCity(spec: CitySpec): TerritoryRegion[] {
  const plane = planeAt(spec.center[1]);
  const density = gaussianDensity(0.12, spec.peaks);
  const iterations = spec.lloydIterations ?? 4;
  const regions: TerritoryRegion[] = [];
  const make = (
    code: string,
    level: TerritoryLevel,
    name: string,
    parent: TerritoryRegion | null,
    ring: Ring,
  ): TerritoryRegion => {
    const segment = level === 'city' || level === 'district' ? code : code.slice(-3);
    const [x, y] = areaCentroid(ring.slice(0, -1));
    const region: TerritoryRegion = {
      code,
      level,
      name,
      parentCode: parent?.code ?? null,
      path: parent ? `${parent.path}.${segment}` : segment,
      ring,
      centroid: [roundCoordinate(x), roundCoordinate(y)],
    };
    regions.push(region);
    return region;
  };
  const split = (parent: TerritoryRegion, count: number) =>
    partition({
      parent: parent.ring,
      count,
      random: createRandom(`${spec.code}:${parent.code}`),
      density,
      plane,
      iterations,
    });

  const city = make(spec.code, 'city', spec.name, null, outlineOf(spec));

  const districts = split(city, spec.districts.length).map((ring, i) =>
    make(spec.districts[i]!.code, 'district', spec.districts[i]!.name, city, ring),
  );

  const streetCounts = countsFor(
    spec.streets,
    districts.map((d) => massOf(d.ring, plane, density)),
  );
  const streetTotal = streetCounts.reduce((s, c) => s + c, 0);
  const streetNameList = spec.streetNames ?? streetNames(streetTotal, spec.code);
  const streets: TerritoryRegion[] = [];
  districts.forEach((district, d) => {
    split(district, streetCounts[d]!).forEach((ring, i) => {
      const name = streetNameList[streets.length] ?? `第${streets.length + 1}街道`;
      streets.push(make(`${district.code}${pad3(i + 1)}`, 'street', name, district, ring));
    });
  });

  const communityCounts = countsFor(
    spec.communities,
    streets.map((s) => massOf(s.ring, plane, density)),
  );
  const communityTotal = communityCounts.reduce((s, c) => s + c, 0);
  const communityNameList = spec.communityNames ?? communityNames(communityTotal, spec.code);
  const communities: TerritoryRegion[] = [];
  streets.forEach((street, s) => {
    split(street, communityCounts[s]!).forEach((ring, i) => {
      const name = communityNameList[communities.length] ?? `第${communities.length + 1}社区`;
      communities.push(make(`${street.code}${pad3(i + 1)}`, 'community', name, street, ring));
    });
  });

  const gridCounts = countsFor(
    spec.grids,
    communities.map((c) => massOf(c.ring, plane, density, 1)),
  );
  communities.forEach((community, c) => {
    split(community, gridCounts[c]!).forEach((ring, i) => {
      make(`${community.code}${pad3(i + 1)}`, 'grid', gridName(community.name, i + 1), community, ring);
    });
  });
  return regions;
}

/** A fingerprint of generated regions (codes, names, paths, every coordinate): equal output ⇔ equal hash. */
export function territoryHash(regions: readonly TerritoryRegion[]): string {
  const hash = crypto.createHash('sha256');
  for (const r of regions)
    hash.update(JSON.stringify([r.code, r.level, r.name, r.parentCode, r.path, r.ring, r.centroid]));
  return hash.digest('hex');
}
