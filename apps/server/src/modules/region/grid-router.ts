import Flatbush from 'flatbush';
import type { Logger } from 'pino';
import { rows, sql, type Executor } from '../../platform/db.ts';
import type { BoundaryEvents } from './region.events.ts';

/** A grid the router can answer with. One object per grid, made at load time (queries allocate nothing). */
export interface GridEntry {
  code: string;
  name: string;
}

/** The packed, immutable index one rebuild produces. A rebuild swaps the whole object at once. */
export interface GridIndex {
  entries: GridEntry[];
  tree: Flatbush | null;
  /** Per grid: its rings are ringOffsets[gridRings[g]] … ringOffsets[gridRings[g + 1]]. */
  gridRings: Uint32Array;
  /** Per ring: its vertices are coordinates[2 * ringOffsets[r]] … (ring r + 1 starts where ring r ends). */
  ringOffsets: Uint32Array;
  /** x0, y0, x1, y1, … for every vertex of every ring, each ring closed (last vertex = first). */
  coordinates: Float64Array;
  /** Reused traversal stack for the tree search (pairs of node position and level). */
  stack: Int32Array;
  /** Axis-aligned bounds of every ring, 4 numbers per ring: quick rejection before the crossing test. */
  ringBounds: Float64Array;
}

interface BoundaryPage {
  code: string;
  name: string;
  geojson: string;
}

/** Rows per page when loading: 41k grids in ~20 round trips, a few MB of GeoJSON at a time. */
const pageSize = 2000;

/** Growable Float64Array, so 41k grids of coordinates never pass through a plain number[]. */
class FloatBuffer {
  data = new Float64Array(1 << 16);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

class UintBuffer {
  data = new Uint32Array(1 << 12);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  toArray(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

type Ring = number[][];
/** GeoJSON area geometry, WGS-84 [lng, lat]. */
export type Geometry =
  { type: 'MultiPolygon'; coordinates: Ring[][] } | { type: 'Polygon'; coordinates: Ring[] };

/**
 * Packs boundaries given as GeoJSON into flat arrays, one grid at a time (so a large load never holds every
 * parsed geometry at once). Grids are numbered in the order added; when two grids overlap (they should
 * not), the lower number wins, so add them sorted by code for the answer `order by code limit 1` gives.
 */
export class GridIndexBuilder {
  private readonly entries: GridEntry[] = [];
  private readonly gridRings = new UintBuffer();
  private readonly ringOffsets = new UintBuffer();
  private readonly coordinates = new FloatBuffer();
  private readonly ringBounds = new FloatBuffer();
  private readonly gridBounds = new FloatBuffer();

  constructor() {
    this.ringOffsets.push(0);
    this.gridRings.push(0);
  }

  add(code: string, name: string, geometry: Geometry): void {
    const { coordinates, ringOffsets, ringBounds, gridBounds } = this;
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    let gridMinX = Infinity;
    let gridMinY = Infinity;
    let gridMaxX = -Infinity;
    let gridMaxY = -Infinity;
    for (const polygon of polygons) {
      for (const ring of polygon) {
        if (ring.length < 3) continue;
        let minX = Infinity;
        let minY = Infinity;
        let maxX = -Infinity;
        let maxY = -Infinity;
        for (const point of ring) {
          const x = point[0]!;
          const y = point[1]!;
          coordinates.push(x);
          coordinates.push(y);
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
        const first = ring[0]!;
        const last = ring[ring.length - 1]!;
        if (first[0] !== last[0] || first[1] !== last[1]) {
          coordinates.push(first[0]!);
          coordinates.push(first[1]!);
        }
        ringOffsets.push(coordinates.length / 2);
        ringBounds.push(minX);
        ringBounds.push(minY);
        ringBounds.push(maxX);
        ringBounds.push(maxY);
        gridMinX = Math.min(gridMinX, minX);
        gridMinY = Math.min(gridMinY, minY);
        gridMaxX = Math.max(gridMaxX, maxX);
        gridMaxY = Math.max(gridMaxY, maxY);
      }
    }
    if (gridMinX === Infinity) return; // no usable ring: nothing can be inside it
    this.entries.push({ code, name });
    this.gridRings.push(ringOffsets.length - 1);
    gridBounds.push(gridMinX);
    gridBounds.push(gridMinY);
    gridBounds.push(gridMaxX);
    gridBounds.push(gridMaxY);
  }

  finish(): GridIndex {
    const { entries } = this;
    let tree: Flatbush | null = null;
    let stack = new Int32Array(0);
    if (entries.length > 0) {
      tree = new Flatbush(entries.length);
      const bounds = this.gridBounds.data;
      for (let i = 0; i < entries.length; i++) {
        const at = 4 * i;
        tree.add(bounds[at]!, bounds[at + 1]!, bounds[at + 2], bounds[at + 3]);
      }
      tree.finish();
      // Depth-first: at most nodeSize children pushed per level, two numbers each.
      stack = new Int32Array(2 * tree.nodeSize * (tree._levelBounds.length + 1));
    }
    return {
      entries,
      tree,
      gridRings: this.gridRings.toArray(),
      ringOffsets: this.ringOffsets.toArray(),
      coordinates: this.coordinates.toArray(),
      ringBounds: this.ringBounds.toArray(),
      stack,
    };
  }
}

/**
 * Even-odd ray casting over every ring of one grid (shells and holes alike): a point is inside when a ray
 * from it crosses the rings an odd number of times. For valid polygons this equals ST_Contains except
 * exactly on an edge, where ST_Contains says "not inside" and the crossing test may say either.
 */
function gridContains(index: GridIndex, grid: number, x: number, y: number): boolean {
  const { gridRings, ringOffsets, coordinates: c, ringBounds } = index;
  let inside = false;
  const lastRing = gridRings[grid + 1]!;
  for (let ring = gridRings[grid]!; ring < lastRing; ring++) {
    const b = ring * 4;
    // A ray to +x can only cross a ring whose y-range spans y and that reaches right of x.
    if (y < ringBounds[b + 1]! || y > ringBounds[b + 3]! || x > ringBounds[b + 2]!) continue;
    const end = 2 * ringOffsets[ring + 1]!;
    let previousX = c[2 * ringOffsets[ring]!]!;
    let previousY = c[2 * ringOffsets[ring]! + 1]!;
    for (let i = 2 * ringOffsets[ring]! + 2; i < end; i += 2) {
      const currentX = c[i]!;
      const currentY = c[i + 1]!;
      if (
        currentY > y !== previousY > y &&
        x < ((previousX - currentX) * (y - currentY)) / (previousY - currentY) + currentX
      )
        inside = !inside;
      previousX = currentX;
      previousY = currentY;
    }
  }
  return inside;
}

/**
 * The grid containing a point, as an index into `entries`, or -1. Walks the packed flatbush tree with a
 * preallocated stack (flatbush's own search allocates result and queue arrays on every call); when grids
 * overlap, the lowest index wins.
 */
export function locateIn(index: GridIndex, x: number, y: number): number {
  const tree = index.tree;
  if (!tree || x < tree.minX || x > tree.maxX || y < tree.minY || y > tree.maxY) return -1;
  const boxes = tree._boxes;
  const indices = tree._indices;
  const levelBounds = tree._levelBounds;
  const nodeSize = tree.nodeSize;
  const leafEnd = tree.numItems * 4;
  const stack = index.stack;
  let best = -1;
  let top = 0;
  let nodePosition = boxes.length - 4;
  let level = levelBounds.length - 1;
  for (;;) {
    const end = Math.min(nodePosition + nodeSize * 4, levelBounds[level]!);
    const isNode = nodePosition >= leafEnd;
    for (let position = nodePosition; position < end; position += 4) {
      if (
        x < boxes[position]! ||
        y < boxes[position + 1]! ||
        x > boxes[position + 2]! ||
        y > boxes[position + 3]!
      )
        continue;
      const child = indices[position >> 2]! | 0;
      if (isNode) {
        stack[top++] = child;
        stack[top++] = level - 1;
      } else if ((best === -1 || child < best) && gridContains(index, child, x, y)) {
        best = child;
      }
    }
    if (top === 0) break;
    level = stack[--top]!;
    nodePosition = stack[--top]!;
  }
  return best;
}

/**
 * In-process point → grid index (the hot path of case intake): current boundaries of every grid-level
 * region, bounding boxes in a flatbush tree, exact even-odd point-in-polygon over flat Float64Arrays.
 * Rebuilt from the database on start and after every boundary change.
 */
export class GridRouter {
  private index: GridIndex = new GridIndexBuilder().finish();
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: Executor,
    private readonly logger?: Logger,
  ) {}

  /** Builds a router from the database and, when given events, keeps it current as boundaries change. */
  static async create(options: {
    db: Executor;
    events?: BoundaryEvents;
    logger?: Logger;
  }): Promise<GridRouter> {
    const router = new GridRouter(options.db, options.logger);
    await router.rebuild();
    options.events?.on(() => router.rebuildQuietly());
    return router;
  }

  /** Number of grids indexed. */
  get size(): number {
    return this.index.entries.length;
  }

  /** The code of the grid containing the WGS-84 point, or null outside every grid. */
  locate(lng: number, lat: number): string | null {
    const found = locateIn(this.index, lng, lat);
    return found === -1 ? null : this.index.entries[found]!.code;
  }

  /** Like `locate`, with the grid's name (the same object every time: do not mutate it). */
  locateEntry(lng: number, lat: number): Readonly<GridEntry> | null {
    const found = locateIn(this.index, lng, lat);
    return found === -1 ? null : this.index.entries[found]!;
  }

  /**
   * Reloads every current grid boundary and swaps the index in one assignment (queries keep using the old
   * one until then). Calls during a rebuild coalesce into one more rebuild after it.
   */
  rebuild(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const started = Date.now();
          this.index = await loadIndex(this.db);
          this.logger?.info(
            { grids: this.index.entries.length, ms: Date.now() - started },
            'grid router rebuilt',
          );
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** For event listeners: a failed rebuild keeps the previous index and logs, it never throws. */
  private async rebuildQuietly(): Promise<void> {
    try {
      await this.rebuild();
    } catch (error) {
      this.logger?.error({ err: error }, 'grid router rebuild failed; keeping the previous index');
    }
  }
}

/** Loads current grid boundaries page by page (keyset on code), packing each page as it arrives. */
async function loadIndex(db: Executor): Promise<GridIndex> {
  const builder = new GridIndexBuilder();
  let after = '';
  for (;;) {
    // 15 decimals: PostGIS prints the shortest text that reads back as the same double, so the router
    // tests exactly the coordinates PostGIS tests.
    const page = await rows<BoundaryPage>(
      db,
      sql`select b.region_code as code, r.name, ST_AsGeoJSON(b.geom, 15) as geojson
          from region_boundary b
          join region r on r.code = b.region_code
          where b.valid_to is null and r.level = 'grid' and b.region_code > ${after}
          order by b.region_code
          limit ${pageSize}`,
    );
    for (const row of page) builder.add(row.code, row.name, JSON.parse(row.geojson) as Geometry);
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.code;
  }
  return builder.finish();
}
