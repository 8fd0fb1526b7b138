import type { Me } from '../../shared/auth.tsx';
import { mapColours, type LngLat } from './mapStyle.ts';

/** Pure helpers of the map page: region paths, choropleth classes, what a child click does. */

export type ColourBy = 'open' | 'overdue';

/** One child region on the map and in the list; counts are null when the user may not see statistics. */
export interface ChildRow {
  code: string;
  name: string;
  level: string;
  centroid: LngLat | null;
  openCases: number | null;
  overdueCases: number | null;
}

export const levelOrder = [
  'province',
  'city',
  'district',
  'street',
  'community',
  'grid',
  'microgrid',
] as const;

/** Grids and micro-grids are leaves of the drill-down: clicking one opens its panel. */
export function isGridLevel(level: string | undefined): boolean {
  return level === 'grid' || level === 'microgrid';
}

/** The level below `level` (the children's level), for titles before the children have loaded. */
export function childLevelOf(level: string): string | null {
  const i = levelOrder.indexOf(level as (typeof levelOrder)[number]);
  return i >= 0 && i < levelOrder.length - 1 ? (levelOrder[i + 1] ?? null) : null;
}

/**
 * Codes of a region's ancestors and itself, top first, from its path (`230800.230803.001.002`): the city and the
 * district have full 6-digit codes (GB/T 2260), each lower level adds its digits to its parent's code.
 */
export function codesOfPath(path: string): string[] {
  const parts = path.split('.');
  const codes: string[] = [];
  parts.forEach((part, i) => {
    if (i <= 1) codes.push(part);
    else codes.push((codes[i - 1] ?? '') + part);
  });
  return codes;
}

/** The scope entry that holds the region of `path` (its widest), or null outside every scope. */
export function scopeRootOf(me: Me, path: string): Me['scope'][number] | null {
  const holding = me.scope.filter((s) => path === s.regionPath || path.startsWith(`${s.regionPath}.`));
  holding.sort((a, b) => a.regionPath.length - b.regionPath.length);
  return holding[0] ?? null;
}

export interface ColourClass {
  from: number;
  to: number;
  colour: string;
}

/** Up to five classes: zero, then four ranges that split 1…max evenly (fewer when max is small). */
export function colourClasses(max: number, by: ColourBy): ColourClass[] {
  const palette = mapColours[by];
  const classes: ColourClass[] = [{ from: 0, to: 0, colour: palette[0] }];
  if (max <= 0) return classes;
  const n = Math.min(4, max);
  let from = 1;
  for (let k = 1; k <= n && from <= max; k++) {
    const to = k === n ? max : Math.max(from, Math.round((max * k) / n));
    classes.push({ from, to, colour: '' });
    from = to + 1;
  }
  const ranges = classes.length - 1;
  classes.forEach((c, i) => {
    if (i === 0) return;
    const index = ranges === 1 ? 4 : 1 + Math.round(((i - 1) * 3) / (ranges - 1));
    c.colour = palette[index] ?? palette[4];
  });
  return classes;
}

export function colourOf(value: number | null, classes: ColourClass[]): string {
  if (value === null) return '#eceae4';
  return classes.find((c) => value >= c.from && value <= c.to)?.colour ?? classes[classes.length - 1]!.colour;
}

export function metricOf(row: ChildRow, by: ColourBy): number | null {
  return by === 'open' ? row.openCases : row.overdueCases;
}

/** Smallest span (degrees) to show around the centroids of children of a level. */
export function minSpanFor(childLevel: string | undefined): number {
  switch (childLevel ?? '') {
    case 'district':
      return 0.12;
    case 'street':
      return 0.05;
    case 'community':
      return 0.02;
    case 'grid':
      return 0.006;
    default:
      return 0.003;
  }
}

/** Zoom for a region shown from its centroid alone. */
export function zoomFor(level: string | undefined): number {
  switch (level ?? '') {
    case 'city':
      return 10;
    case 'district':
      return 11.5;
    case 'street':
      return 13;
    case 'community':
      return 14.5;
    default:
      return 15.5;
  }
}

/** `to` is exclusive in the API ("reported before this date"): the day after the picker's last day. */
export function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A child's name without its parent's name in front (友谊社区第一网格 → 第一网格), for labels on the map. */
export function shortName(name: string, parentName: string | undefined): string {
  if (!parentName || !name.startsWith(parentName)) return name;
  const rest = name.slice(parentName.length).trim();
  return rest.length > 0 ? rest : name;
}
