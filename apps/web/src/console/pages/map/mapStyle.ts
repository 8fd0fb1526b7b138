import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import './map.css';
import type { FeatureCollection, Point } from 'geojson';

/**
 * The one place where MapLibre is set up for the console's maps (指挥一张图, the point picker and the case's mini
 * map). Only files of this folder import it, and they are loaded lazily, so MapLibre stays out of the first load.
 *
 * Offline by design: no basemap tiles and no glyph server. The map draws the server's own vector tiles
 * (`/tiles/grids/{z}/{x}/{y}.mvt`: layer `grids` for grids and micro-grids, layer `regions` for community … city)
 * over a plain background. The style has no `glyphs` URL, so MapLibre draws every label locally with the system
 * font (TinySDF): Chinese names render without any download.
 */

// Vite copies the worker as an asset; MapLibre's own guess (beside its module) does not survive bundling.
maplibregl.setWorkerUrl(workerUrl);

export { maplibregl };
export type StyleSpecification = Exclude<maplibregl.MapOptions['style'], string | undefined>;
export type LayerSpecification = StyleSpecification['layers'][number];
export type FilterSpecification = NonNullable<Parameters<maplibregl.Map['setFilter']>[1]>;
export type LngLat = [number, number];

/** Source id of the server's region and grid tiles. */
export const tileSource = 'wangge';
/** Source id of the grid name points (computed from the loaded tiles). */
export const gridLabelSource = 'grid-label-points';
export const gridLabelMinZoom = 13.5;

/** Fonts for labels drawn locally: the first installed one wins, `sans-serif` after them. */
export const labelFont = ['Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei'];
export const labelFontBold = ['Noto Sans CJK SC Bold', 'PingFang SC Semibold', 'Microsoft YaHei Bold'];

/** Colours of the map, shared with the legend. */
export const mapColours = {
  background: '#dfe6ea',
  land: '#f7f5ef',
  districtLine: '#7b6259',
  streetLine: '#9c857b',
  communityLine: '#b8a9a1',
  gridLine: '#c9d3d9',
  focus: '#b71c1c',
  label: '#3e4a52',
  /** choropleth classes: index 0 is "none", 1…4 rising */
  open: ['#e6f2e8', '#fff0c2', '#ffcf85', '#ff9a52', '#e5532d'],
  overdue: ['#edf1f5', '#fbd3d3', '#f29c9c', '#e05d5d', '#b71c1c'],
  caseOverdue: '#d4380d',
  caseUrgent: '#fa8c16',
  caseNormal: '#1d5fd1',
  caseClosed: '#8c8c8c',
  cluster: '#24428f',
} as const;

/** Zoom from which the tiles carry communities and grids (server: below z8 only city and district borders). */
export const fineZoom = 8;

/** Absolute tile URL: MapLibre fetches tiles from its worker, where a path alone has no origin. */
export function tileUrl(): string {
  return `${window.location.origin}/tiles/grids/{z}/{x}/{y}.mvt`;
}

/** Whether this browser can draw WebGL at all (checked before MapLibre is asked, so the page can say why). */
export function webglSupported(): boolean {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    return !!gl;
  } catch {
    return false;
  }
}

export interface BaseStyleOptions {
  /** draw grid names at high zoom (point picker, mini map) */
  gridLabels?: boolean;
}

/**
 * The base style: soft background, the city as land, borders by level (district thickest, grids finest) and,
 * when asked, grid names. Pages add their own layers on top (choropleth, case points, the picked point).
 */
export function baseStyle(options: BaseStyleOptions = {}): StyleSpecification {
  const layers: LayerSpecification[] = [
    { id: 'background', type: 'background', paint: { 'background-color': mapColours.background } },
    {
      id: 'land',
      type: 'fill',
      source: tileSource,
      'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'city'],
      paint: { 'fill-color': mapColours.land },
    },
    {
      id: 'grid-line',
      type: 'line',
      source: tileSource,
      'source-layer': 'grids',
      minzoom: 11,
      filter: ['==', ['get', 'level'], 'grid'],
      paint: {
        'line-color': mapColours.gridLine,
        'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.4, 16, 1.2],
      },
    },
    {
      id: 'community-line',
      type: 'line',
      source: tileSource,
      'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'community'],
      paint: {
        'line-color': mapColours.communityLine,
        'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.6, 15, 1.6],
        'line-dasharray': [3, 2],
      },
    },
    {
      id: 'street-line',
      type: 'line',
      source: tileSource,
      'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'street'],
      paint: {
        'line-color': mapColours.streetLine,
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.8, 15, 2.2],
      },
    },
    {
      id: 'district-line',
      type: 'line',
      source: tileSource,
      'source-layer': 'regions',
      filter: ['in', ['get', 'level'], ['literal', ['district', 'city']]],
      paint: {
        'line-color': mapColours.districtLine,
        'line-width': ['interpolate', ['linear'], ['zoom'], 6, 1, 14, 3],
      },
    },
  ];
  // Grid names come from points computed on the client (one per grid: see `useGridLabels`), not from the
  // polygons, which are cut at tile edges and would be labelled once per piece.
  if (options.gridLabels)
    layers.push({
      id: 'grid-label',
      type: 'symbol',
      source: gridLabelSource,
      minzoom: gridLabelMinZoom,
      layout: {
        'text-field': ['get', 'name'],
        'text-font': labelFont,
        'text-size': 12,
        'text-max-width': 8,
        'text-padding': 6,
      },
      paint: { 'text-color': '#6b7c86', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 },
    });
  return {
    version: 8,
    sources: {
      [tileSource]: {
        type: 'vector',
        tiles: [tileUrl()],
        minzoom: 0,
        maxzoom: 16,
        promoteId: 'code',
      },
      ...(options.gridLabels
        ? {
            [gridLabelSource]: {
              type: 'geojson',
              data: { type: 'FeatureCollection', features: [] },
            } as const,
          }
        : {}),
    },
    layers,
  };
}

/** A bounding box [west, south, east, north] around points, widened so that regions around them fit too. */
export function boundsAround(points: LngLat[], minSpan: number): [number, number, number, number] | null {
  if (points.length === 0) return null;
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  for (const [lng, lat] of points) {
    west = Math.min(west, lng);
    east = Math.max(east, lng);
    south = Math.min(south, lat);
    north = Math.max(north, lat);
  }
  // Centroids sit inside their regions: widen by about half a region on every side.
  const pad = Math.max(minSpan / 2, (Math.max(east - west, north - south) / Math.sqrt(points.length)) * 0.6);
  return [west - pad, south - pad * 0.7, east + pad, north + pad * 0.7];
}

/** Map-wide strings (zoom buttons, popup close) in the user's language. */
export function mapLocale(controls: unknown): Record<string, string> {
  return controls && typeof controls === 'object' ? (controls as Record<string, string>) : {};
}

/**
 * One label point per grid from the tiles loaded now: the middle of the bounding box of all its pieces (grids
 * are compact cells, so the middle lies inside). Grids partly outside the view get their label in the visible part.
 */
export function gridLabelPoints(map: maplibregl.Map): FeatureCollection<Point> {
  const boxes = new Map<string, { name: string; w: number; s: number; e: number; n: number }>();
  const view = map.getBounds();
  // a little inside the edges, so that clamped labels are not cut in half
  const insetX = (view.getEast() - view.getWest()) * 0.08;
  const insetY = (view.getNorth() - view.getSouth()) * 0.06;
  const [west, east] = [view.getWest() + insetX, view.getEast() - insetX];
  const [south, north] = [view.getSouth() + insetY, view.getNorth() - insetY];
  for (const f of map.querySourceFeatures(tileSource, {
    sourceLayer: 'grids',
    filter: ['==', ['get', 'level'], 'grid'],
  })) {
    const code = String(f.properties.code);
    const rings =
      f.geometry.type === 'Polygon'
        ? f.geometry.coordinates
        : f.geometry.type === 'MultiPolygon'
          ? f.geometry.coordinates.flat()
          : [];
    let box = boxes.get(code);
    for (const ring of rings)
      for (const [lng = 0, lat = 0] of ring) {
        // only the part in view, so a large grid is labelled where the user looks
        const x = Math.min(Math.max(lng, west), east);
        const y = Math.min(Math.max(lat, south), north);
        if (!box) {
          box = { name: String(f.properties.name), w: x, s: y, e: x, n: y };
          boxes.set(code, box);
        }
        box.w = Math.min(box.w, x);
        box.e = Math.max(box.e, x);
        box.s = Math.min(box.s, y);
        box.n = Math.max(box.n, y);
      }
  }
  return {
    type: 'FeatureCollection',
    features: [...boxes.entries()].map(([code, b]) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [(b.w + b.e) / 2, (b.s + b.n) / 2] },
      properties: { code, name: b.name },
    })),
  };
}

/** Bounding box [west, south, east, north] of a region's pieces in the loaded tiles; null when none is loaded. */
export function loadedBounds(
  map: maplibregl.Map,
  sourceLayer: 'grids' | 'regions',
  code: string,
): [number, number, number, number] | null {
  let box: [number, number, number, number] | null = null;
  for (const f of map.querySourceFeatures(tileSource, {
    sourceLayer,
    filter: ['==', ['get', 'code'], code],
  })) {
    const rings =
      f.geometry.type === 'Polygon'
        ? f.geometry.coordinates
        : f.geometry.type === 'MultiPolygon'
          ? f.geometry.coordinates.flat()
          : [];
    for (const ring of rings)
      for (const [lng = 0, lat = 0] of ring)
        box = box
          ? [Math.min(box[0], lng), Math.min(box[1], lat), Math.max(box[2], lng), Math.max(box[3], lat)]
          : [lng, lat, lng, lat];
  }
  return box;
}
