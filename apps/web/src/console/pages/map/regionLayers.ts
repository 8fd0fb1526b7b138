import {
  labelFontBold,
  mapColours,
  tileSource,
  type FilterSpecification,
  type LayerSpecification,
  type maplibregl,
} from './mapStyle.ts';
import {
  colourOf,
  isGridLevel,
  metricOf,
  type ChildRow,
  type ColourBy,
  type ColourClass,
} from './regions.ts';

/**
 * The layers 指挥一张图 draws on top of the base style: the other regions dimmed, the current region's children
 * coloured by their case counts (专题图), the current region outlined, the selected grid, and the case layer
 * (the server's case tiles: clusters with counts below z15, single cases from z15). Filters and colours change
 * with the drill-down; the layers are added once.
 */

export const casesSource = 'cases';
/** Zoom from which the case tiles carry single cases (layer `cases`) instead of clusters (as the server's). */
export const casePointsMinZoom = 15;
export const childFillLayers = ['child-fill-regions', 'child-fill-grids'] as const;
export const caseLayers = ['case-clusters', 'case-points'] as const;

/** Statuses drawn as closed (grey). */
const terminalStatuses = ['closed', 'evaluated', 'not_filed', 'duplicate'];

type FillColour = NonNullable<Extract<LayerSpecification, { type: 'fill' }>['paint']>['fill-color'];

const nothing: FilterSpecification = ['==', ['get', 'code'], '__none__'];

function layerSet(): LayerSpecification[] {
  const layers: LayerSpecification[] = [];
  layers.push({
    id: 'dim',
    type: 'fill',
    source: tileSource,
    'source-layer': 'regions',
    filter: nothing,
    paint: { 'fill-color': '#e9ecef', 'fill-opacity': 0.75 },
  });
  for (const sourceLayer of ['regions', 'grids'] as const) {
    layers.push({
      id: `child-fill-${sourceLayer}`,
      type: 'fill',
      source: tileSource,
      'source-layer': sourceLayer,
      filter: nothing,
      paint: {
        'fill-color': '#eceae4',
        'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.92, 0.72],
      },
    });
    layers.push({
      id: `child-line-${sourceLayer}`,
      type: 'line',
      source: tileSource,
      'source-layer': sourceLayer,
      filter: nothing,
      paint: {
        'line-color': ['case', ['boolean', ['feature-state', 'hover'], false], mapColours.focus, '#6b5a53'],
        'line-width': ['case', ['boolean', ['feature-state', 'hover'], false], 2.6, 1.2],
      },
    });
  }
  for (const sourceLayer of ['regions', 'grids'] as const) {
    layers.push({
      id: `focus-halo-${sourceLayer}`,
      type: 'line',
      source: tileSource,
      'source-layer': sourceLayer,
      filter: nothing,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#ffffff', 'line-width': 7, 'line-opacity': 0.8 },
    });
    layers.push({
      id: `focus-line-${sourceLayer}`,
      type: 'line',
      source: tileSource,
      'source-layer': sourceLayer,
      filter: nothing,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': mapColours.focus, 'line-width': 2.6 },
    });
  }
  layers.push({
    id: 'selected-grid',
    type: 'line',
    source: tileSource,
    'source-layer': 'grids',
    filter: nothing,
    layout: { 'line-join': 'round' },
    paint: { 'line-color': mapColours.focus, 'line-width': 3.5, 'line-dasharray': [2, 1] },
  });
  layers.push({
    id: 'case-clusters',
    type: 'circle',
    source: casesSource,
    'source-layer': 'case-clusters',
    paint: {
      'circle-color': mapColours.cluster,
      'circle-opacity': 0.88,
      'circle-radius': ['step', ['get', 'count'], 13, 10, 17, 50, 22, 200, 28, 2000, 32],
      'circle-stroke-width': ['case', ['>', ['get', 'overdue'], 0], 3, 2],
      'circle-stroke-color': ['case', ['>', ['get', 'overdue'], 0], mapColours.caseOverdue, '#ffffff'],
    },
  });
  layers.push({
    id: 'case-cluster-count',
    type: 'symbol',
    source: casesSource,
    'source-layer': 'case-clusters',
    layout: {
      'text-field': [
        'case',
        ['>=', ['get', 'count'], 10000],
        ['concat', ['to-string', ['round', ['/', ['get', 'count'], 1000]]], 'k'],
        ['>=', ['get', 'count'], 1000],
        ['concat', ['to-string', ['/', ['round', ['/', ['get', 'count'], 100]], 10]], 'k'],
        ['to-string', ['get', 'count']],
      ],
      'text-font': labelFontBold,
      'text-size': 12,
      'text-allow-overlap': true,
    },
    paint: { 'text-color': '#ffffff' },
  });
  layers.push({
    id: 'case-points',
    type: 'circle',
    source: casesSource,
    'source-layer': 'cases',
    paint: {
      'circle-color': [
        'case',
        ['get', 'overdue'],
        mapColours.caseOverdue,
        ['get', 'urgent'],
        mapColours.caseUrgent,
        ['in', ['get', 'status'], ['literal', terminalStatuses]],
        mapColours.caseClosed,
        mapColours.caseNormal,
      ],
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 4.5, 16, 8],
      'circle-stroke-width': 1.5,
      'circle-stroke-color': '#ffffff',
    },
  });
  return layers;
}

/**
 * Adds the page's sources and layers to a loaded map (once); the case layer reads `caseTiles` (none when null: the
 * user may not read cases).
 */
export function installRegionLayers(map: maplibregl.Map, caseTiles: string | null): void {
  if (map.getLayer('dim')) return;
  if (caseTiles)
    map.addSource(casesSource, {
      type: 'vector',
      tiles: [caseTiles],
      minzoom: 0,
      // the server's last zoom of its own (single cases from z15 on): deeper zooms scale its tiles
      maxzoom: casePointsMinZoom,
    });
  for (const layer of layerSet())
    if (caseTiles || !('source' in layer) || layer.source !== casesSource) map.addLayer(layer);
}

/** The case filters the tiles take (the case list's, without paging). */
export interface CaseTileFilters {
  region?: string;
  categoryCode?: string;
  state?: string;
  status?: string;
  channel?: string;
  from?: string;
  to?: string;
}

/**
 * Absolute URL template of the case tiles for these filters (MapLibre fetches from its worker, where a path alone
 * has no origin; the session cookie goes along, same origin). `version` changes the URL so that a refresh is not
 * answered from the browser's cache (the tiles may be cached 15 s); the server ignores it.
 */
export function caseTilesUrl(filters: CaseTileFilters, version = 0): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters) as [string, string | undefined][])
    if (value) query.set(key, value);
  if (version) query.set('v', String(version));
  const search = query.toString();
  return `${window.location.origin}/tiles/cases/{z}/{x}/{y}.mvt${search ? `?${search}` : ''}`;
}

export interface RegionView {
  code: string;
  level: string;
  /** children of the current region, coloured */
  children: ChildRow[];
  classes: ColourClass[];
  colourBy: ColourBy;
  selectedGrid: string | null;
}

/** Applies the drill-down state: what is dimmed, which children are coloured and how, what is outlined. */
export function applyRegionView(map: maplibregl.Map, view: RegionView): void {
  const { code, level, children } = view;
  const codes = children.map((c) => c.code);
  const childrenInGrids = children.length > 0 && isGridLevel(children[0]?.level);
  const byCode: FilterSpecification = codes.length ? ['in', ['get', 'code'], ['literal', codes]] : nothing;

  // Everything at the current level except the current region is dimmed, so the eye stays inside it.
  map.setFilter(
    'dim',
    isGridLevel(level) ? nothing : ['all', ['==', ['get', 'level'], level], ['!=', ['get', 'code'], code]],
  );
  map.setFilter('child-fill-regions', childrenInGrids ? nothing : byCode);
  map.setFilter('child-line-regions', childrenInGrids ? nothing : byCode);
  map.setFilter('child-fill-grids', childrenInGrids ? byCode : nothing);
  map.setFilter('child-line-grids', childrenInGrids ? byCode : nothing);

  const colour: FillColour =
    children.length > 0
      ? ([
          'match',
          ['get', 'code'],
          ...children.flatMap((c) => [c.code, colourOf(metricOf(c, view.colourBy), view.classes)]),
          '#eceae4',
        ] as unknown as FillColour)
      : '#eceae4';
  map.setPaintProperty('child-fill-regions', 'fill-color', colour);
  map.setPaintProperty('child-fill-grids', 'fill-color', colour);

  const focus: FilterSpecification = ['==', ['get', 'code'], code];
  const focusGrid = isGridLevel(level);
  map.setFilter('focus-halo-regions', focusGrid ? nothing : focus);
  map.setFilter('focus-line-regions', focusGrid ? nothing : focus);
  map.setFilter('focus-halo-grids', focusGrid ? focus : nothing);
  map.setFilter('focus-line-grids', focusGrid ? focus : nothing);
  map.setFilter(
    'selected-grid',
    view.selectedGrid && view.selectedGrid !== code ? ['==', ['get', 'code'], view.selectedGrid] : nothing,
  );
}
