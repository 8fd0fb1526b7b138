import crypto from 'node:crypto';
import { Delaunay } from 'd3-delaunay';

/** [longitude, latitude] in WGS 84 degrees (or [x, y] in the working plane). */
export type Point = [number, number];
/** A closed ring: the last position repeats the first. */
export type Ring = Point[];

/** Coordinates are stored with 7 decimals (about 1 cm): every generated vertex goes through this. */
export const coordinateDecimals = 7;
const scale = 10 ** coordinateDecimals;

export function roundCoordinate(value: number): number {
  return Math.round(value * scale) / scale;
}

/**
 * Deterministic random numbers (sfc32) seeded from a string: the same seed gives the same sequence on every
 * machine, so the demo city is the same on every run.
 */
export function createRandom(seed: string): () => number {
  const digest = crypto.createHash('sha256').update(seed).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Shoelace area; positive when the ring runs counter-clockwise (y up). Works on closed or open rings. */
export function signedArea(ring: readonly Point[]): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i]!;
    const [x2, y2] = ring[(i + 1) % ring.length]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum / 2;
}

/** Area centroid of a simple polygon (closed or open ring). */
export function areaCentroid(ring: readonly Point[]): Point {
  let cx = 0;
  let cy = 0;
  let twice = 0;
  const [ox, oy] = ring[0]!;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i]!;
    const [x2, y2] = ring[(i + 1) % ring.length]!;
    // Relative to the first vertex: keeps precision for coordinates far from the origin.
    const ax = x1 - ox;
    const ay = y1 - oy;
    const bx = x2 - ox;
    const by = y2 - oy;
    const cross = ax * by - bx * ay;
    twice += cross;
    cx += (ax + bx) * cross;
    cy += (ay + by) * cross;
  }
  return [ox + cx / (3 * twice), oy + cy / (3 * twice)];
}

function open(ring: readonly Point[]): Point[] {
  const first = ring[0]!;
  const last = ring[ring.length - 1]!;
  return first[0] === last[0] && first[1] === last[1] ? ring.slice(0, -1) : ring.slice();
}

/** Closes a ring and makes it counter-clockwise (RFC 7946 exterior ring). */
export function closeCounterClockwise(points: readonly Point[]): Ring {
  const ring = open(points);
  if (signedArea(ring) < 0) ring.reverse();
  ring.push([ring[0]![0], ring[0]![1]]);
  return ring;
}

/** Rounds every vertex and drops the repeats that rounding can create. Returns an open ring. */
export function roundRing(points: readonly Point[]): Point[] {
  const result: Point[] = [];
  for (const [x, y] of open(points)) {
    const p: Point = [roundCoordinate(x), roundCoordinate(y)];
    const last = result[result.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) result.push(p);
  }
  while (
    result.length > 1 &&
    result[0]![0] === result[result.length - 1]![0] &&
    result[0]![1] === result[result.length - 1]![1]
  )
    result.pop();
  return result;
}

/** Convex hull (monotone chain), counter-clockwise, open. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const cross = (o: Point, a: Point, b: Point) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0)
      lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (const p of [...sorted].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0)
      upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * Sutherland–Hodgman: clips a polygon by a convex, counter-clockwise clip polygon (both open rings).
 * Where an edge crosses a clip line the crossing is computed from the edge's endpoints in a canonical order,
 * so two neighbouring cells that share the edge (walking it in opposite directions) get the identical point.
 */
export function clipConvex(subject: readonly Point[], clip: readonly Point[]): Point[] {
  let output = subject.slice();
  for (let i = 0; i < clip.length && output.length > 0; i++) {
    const a = clip[i]!;
    const b = clip[(i + 1) % clip.length]!;
    const ex = b[0] - a[0];
    const ey = b[1] - a[1];
    const side = (p: Point) => ex * (p[1] - a[1]) - ey * (p[0] - a[0]);
    const input = output;
    output = [];
    for (let j = 0; j < input.length; j++) {
      const current = input[j]!;
      const previous = input[(j + input.length - 1) % input.length]!;
      const sc = side(current);
      const sp = side(previous);
      if (sc >= 0) {
        if (sp < 0) output.push(crossing(previous, sp, current, sc));
        output.push(current);
      } else if (sp >= 0) {
        output.push(crossing(previous, sp, current, sc));
      }
    }
  }
  return output;
}

function crossing(p: Point, sp: number, q: Point, sq: number): Point {
  // Canonical order: the same segment gives the same point whichever way it is walked.
  if (p[0] > q[0] || (p[0] === q[0] && p[1] > q[1])) return crossing(q, sq, p, sp);
  const t = sp / (sp - sq);
  return [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
}

export function insideConvex(point: Point, polygon: readonly Point[]): boolean {
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % polygon.length]!;
    if ((b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]) < 0) return false;
  }
  return true;
}

/** Population density (relative) at a longitude/latitude. */
export type Density = (lng: number, lat: number) => number;

/**
 * A working plane that is isotropic near a latitude: x = lng·cos(lat0), y = lat. Voronoi cells are computed here so
 * that they look right on the ground; the map back to degrees is affine, so straight edges stay straight.
 */
export interface Plane {
  k: number;
}

export function planeAt(latitude: number): Plane {
  return { k: Math.cos((latitude * Math.PI) / 180) };
}

const toPlane = (plane: Plane, [lng, lat]: Point): Point => [lng * plane.k, lat];
const toDegrees = (plane: Plane, [x, y]: Point): Point => [x / plane.k, y];

/** Density-weighted mass and centroid of a convex polygon (open ring in the plane), by subdivided fan triangles. */
export function weightedMass(
  polygon: readonly Point[],
  plane: Plane,
  density: Density,
  depth = 1,
): { mass: number; centroid: Point } {
  let mass = 0;
  let mx = 0;
  let my = 0;
  const visit = (a: Point, b: Point, c: Point, level: number) => {
    if (level > 0) {
      const ab: Point = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      const bc: Point = [(b[0] + c[0]) / 2, (b[1] + c[1]) / 2];
      const ca: Point = [(c[0] + a[0]) / 2, (c[1] + a[1]) / 2];
      visit(a, ab, ca, level - 1);
      visit(ab, b, bc, level - 1);
      visit(ca, bc, c, level - 1);
      visit(ab, bc, ca, level - 1);
      return;
    }
    const area = Math.abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])) / 2;
    const cx = (a[0] + b[0] + c[0]) / 3;
    const cy = (a[1] + b[1] + c[1]) / 3;
    const m = area * density(cx / plane.k, cy);
    mass += m;
    mx += m * cx;
    my += m * cy;
  };
  const origin = polygon[0]!;
  for (let i = 1; i + 1 < polygon.length; i++) visit(origin, polygon[i]!, polygon[i + 1]!, depth);
  if (mass <= 0) return { mass: 0, centroid: areaCentroid(polygon) };
  return { mass, centroid: [mx / mass, my / mass] };
}

/** Mass (integral of the density) of a ring in degrees. */
export function massOf(ring: readonly Point[], plane: Plane, density: Density, depth = 2): number {
  return weightedMass(
    open(ring).map((p) => toPlane(plane, p)),
    plane,
    density,
    depth,
  ).mass;
}

function voronoiCells(seeds: readonly Point[], bounds: [number, number, number, number]): Point[][] {
  if (seeds.length === 1) {
    const [x0, y0, x1, y1] = bounds;
    return [
      [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
      ],
    ];
  }
  const voronoi = Delaunay.from(seeds as Point[]).voronoi(bounds);
  return seeds.map((_, i) => {
    const cell = voronoi.cellPolygon(i) as Point[] | null;
    if (!cell) throw new Error('seed outside the Voronoi bounds');
    const ring = open(cell);
    if (signedArea(ring) < 0) ring.reverse();
    return ring;
  });
}

export interface PartitionOptions {
  /** The parent polygon, convex, closed, counter-clockwise, already rounded. */
  parent: Ring;
  count: number;
  random: () => number;
  density: Density;
  plane: Plane;
  /** Weighted Lloyd relaxation steps: more gives rounder, more even cells. */
  iterations: number;
}

/**
 * Splits a convex parent polygon into `count` convex cells: seeds drawn by density inside the parent, relaxed by
 * density-weighted Lloyd steps (denser places get smaller cells), Voronoi cells clipped to the parent in degrees,
 * rounded. Cells are returned closed and counter-clockwise, numbered west→east within rows north→south.
 */
export function partition(options: PartitionOptions): Ring[] {
  const { parent, count, random, density, plane } = options;
  if (count < 1) throw new Error('partition needs at least one cell');
  if (count === 1) return [parent.map((p): Point => [p[0], p[1]])];
  const parentOpen = open(parent);
  const parentPlane = parentOpen.map((p) => toPlane(plane, p));
  const xs = parentPlane.map((p) => p[0]);
  const ys = parentPlane.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = Math.max(maxX - minX, maxY - minY) * 0.05;
  const bounds: [number, number, number, number] = [minX - pad, minY - pad, maxX + pad, maxY + pad];

  // Rejection sampling by density, against the local maximum (probed at the vertices and the centre).
  const probes = [...parentPlane, areaCentroid(parentPlane)];
  const localMax = Math.max(...probes.map(([x, y]) => density(x / plane.k, y))) * 1.25;
  let seeds: Point[] = [];
  for (let tries = 0; seeds.length < count; tries++) {
    const p: Point = [minX + random() * (maxX - minX), minY + random() * (maxY - minY)];
    if (tries > count * 100_000) throw new Error('partition: cannot place seeds in a degenerate parent');
    if (!insideConvex(p, parentPlane)) continue;
    if (tries < count * 200 && random() * localMax > density(p[0] / plane.k, p[1])) continue;
    seeds.push(p);
  }

  for (let step = 0; step < options.iterations; step++) {
    seeds = voronoiCells(seeds, bounds).map((cell, i) => {
      const clipped = clipConvex(cell, parentPlane);
      return clipped.length >= 3 ? weightedMass(clipped, plane, density).centroid : seeds[i]!;
    });
  }

  const cells = voronoiCells(seeds, bounds).map((cell) => {
    const clipped = clipConvex(
      cell.map((p) => toDegrees(plane, p)),
      parentOpen,
    );
    const rounded = roundRing(clipped);
    if (rounded.length < 3 || signedArea(rounded) <= 0) throw new Error('degenerate cell in partition');
    return closeCounterClockwise(rounded);
  });
  return numberCells(cells, parentPlane, plane);
}

/** Orders cells the way codes are given: rows north→south, west→east within a row. */
function numberCells(cells: Ring[], parentPlane: readonly Point[], plane: Plane): Ring[] {
  const rowHeight = Math.sqrt(Math.abs(signedArea(parentPlane)) / cells.length);
  const top = Math.max(...parentPlane.map((p) => p[1]));
  const keyed = cells.map((ring) => {
    const [x, y] = toPlane(plane, areaCentroid(open(ring)));
    return { ring, row: Math.floor((top - y) / rowHeight), x };
  });
  keyed.sort((a, b) => a.row - b.row || a.x - b.x);
  return keyed.map((k) => k.ring);
}

/** A convex, slightly irregular outline around a centre: radii in km, east–west and north–south. */
export function cityOutline(options: {
  center: Point;
  radiusKm: [number, number];
  random: () => number;
  vertices?: number;
}): Ring {
  const { center, radiusKm, random } = options;
  const n = options.vertices ?? 16;
  const kmPerDegreeLat = 110.574;
  const kmPerDegreeLng = 111.32 * Math.cos((center[1] * Math.PI) / 180);
  const points: Point[] = [];
  for (let i = 0; i < n; i++) {
    const angle = ((i + (random() - 0.5) * 0.5) / n) * 2 * Math.PI;
    const r = 0.88 + random() * 0.2;
    points.push([
      center[0] + (Math.cos(angle) * radiusKm[0] * r) / kmPerDegreeLng,
      center[1] + (Math.sin(angle) * radiusKm[1] * r) / kmPerDegreeLat,
    ]);
  }
  return closeCounterClockwise(roundRing(convexHull(points)));
}

/** Distance in km between two longitude/latitude points (equirectangular; fine at city scale). */
export function kmBetween(a: Point, b: Point): number {
  const k = Math.cos((((a[1] + b[1]) / 2) * Math.PI) / 180);
  return Math.hypot((a[0] - b[0]) * 111.32 * k, (a[1] - b[1]) * 110.574);
}

/** Relative density: a base plus Gaussian peaks (σ in km). */
export function gaussianDensity(
  base: number,
  peaks: { at: Point; sigmaKm: number; weight: number }[],
): Density {
  return (lng, lat) => {
    let value = base;
    for (const peak of peaks) {
      const d = kmBetween([lng, lat], peak.at);
      value += peak.weight * Math.exp(-(d * d) / (2 * peak.sigmaKm * peak.sigmaKm));
    }
    return value;
  };
}

/** Splits `total` among weights (largest remainder), at least `minimum` each. */
export function allocate(total: number, weights: readonly number[], minimum = 1): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const free = Math.max(0, total - minimum * n);
  const sum = weights.reduce((s, w) => s + w, 0) || 1;
  const exact = weights.map((w) => (free * w) / sum);
  const counts = exact.map((e) => Math.floor(e));
  let left = free - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i]! += 1;
    left -= 1;
  }
  return counts.map((c) => c + minimum);
}

export function toWkt(ring: Ring): string {
  return `MULTIPOLYGON(((${ring.map(([x, y]) => `${x} ${y}`).join(',')})))`;
}
