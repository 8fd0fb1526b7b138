import { ArrowUpOutlined, DownloadOutlined } from '@ant-design/icons';
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import type { CaseListQuery, CaseStatus } from '@wangge/contracts';
import { Alert, Breadcrumb, Button, Segmented, Select, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, homeRegion, useMe, type Me } from '../../shared/auth.tsx';
import { EmptyState, LoadError, Loading } from '../../shared/states.tsx';
import { useCaseEvents } from '../../shared/stream.ts';
import { GridDrawer, Stat, gridDrawerWidth } from './GridDrawer.tsx';
import { MapFrame, MapMarker, MapPopup, useMapLibre } from './mapKit.tsx';
import { MapFilters, defaultFilters, type MapFilterValues } from './MapFilters.tsx';
import { MapLegend } from './MapLegend.tsx';
import {
  baseStyle,
  boundsAround,
  loadedBounds,
  tileSource,
  type LngLat,
  type maplibregl,
} from './mapStyle.ts';
import {
  applyRegionView,
  caseLayers,
  casePointsMinZoom,
  casesSource,
  caseTilesUrl,
  childFillLayers,
  installRegionLayers,
} from './regionLayers.ts';
import {
  childLevelOf,
  codesOfPath,
  colourClasses,
  colourOf,
  isGridLevel,
  metricOf,
  minSpanFor,
  nextDay,
  scopeRootOf,
  shortName,
  zoomFor,
  type ChildRow,
  type ColourBy,
} from './regions.ts';

const noRows: ChildRow[] = [];
/** After a case event, the case tiles are reloaded this much later (ms), once for every event until then. */
const tileRefreshDelay = 3000;
type Bounds = [number, number, number, number];

/** The region an administrator without a region starts at: the top of the territory. */
async function findTopRegion(): Promise<{ code: string } | null> {
  for (const q of ['市', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
    const found = await api.regionSearch({ query: { q, limit: 1 } });
    if (found.items[0]) return { code: found.items[0].code };
  }
  return null;
}

/**
 * 指挥一张图: the user's territory on one map. Drill down city → district → street → community → grid (breadcrumb,
 * map clicks, labels or the list beside the map); children coloured by open or overdue cases; the cases as the
 * server's vector tiles (GET /tiles/cases: clusters with counts, single cases from z15), filtered like the list;
 * a grid opens its panel (workers, counts, open cases). Live case events refresh counts through the invalidated
 * `['cases']` and `['regionStats']` queries, and the case tiles (at most every few seconds).
 */
export default function MapPage() {
  const { t } = useTranslation('map');
  const me = useMe();
  const [params] = useSearchParams();
  const home = homeRegion(me);
  const top = useQuery({
    queryKey: ['map', 'top'],
    queryFn: findTopRegion,
    enabled: !home && !params.get('region'),
    staleTime: Infinity,
  });
  const code = params.get('region') ?? home?.code ?? top.data?.code ?? null;
  if (!code) {
    if (top.isPending && !home) return <Loading rows={8} />;
    if (top.isError) return <LoadError error={top.error} onRetry={() => void top.refetch()} />;
    return <EmptyState description={t('noRegion')} />;
  }
  return <RegionMap code={code} me={me} />;
}

function RegionMap({ code, me }: { code: string; me: Me }) {
  const { t, i18n } = useTranslation('map');
  const [params, setParams] = useSearchParams();
  const canStats = can(me, 'region.stats');
  const canCases = can(me, 'case.read');

  const region = useQuery({
    queryKey: ['map', 'region', code],
    queryFn: () => api.region({ params: { code } }),
    staleTime: 300_000,
    placeholderData: keepPreviousData,
  });
  const level = region.data?.level;
  const current = region.data?.code === code ? region.data : undefined;
  // A grid as the current region (a grid worker's home) shows its panel until the user closes it.
  const [dismissed, setDismissed] = useState<string | null>(null);
  const atGrid = isGridLevel(current?.level);
  const selectedGrid = atGrid ? (dismissed === code ? null : code) : params.get('grid');

  // Breadcrumb: the ancestors inside the user's scope, top first.
  const root = current ? scopeRootOf(me, current.path) : null;
  const rootDepth = root ? root.regionPath.split('.').length - 1 : 0;
  const crumbCodes = current ? codesOfPath(current.path).slice(rootDepth) : [];
  const crumbs = useQueries({
    queries: crumbCodes.slice(0, -1).map((c) => ({
      queryKey: ['map', 'region', c],
      queryFn: () => api.region({ params: { code: c } }),
      staleTime: 300_000,
    })),
  });

  const children = useQuery({
    queryKey: canStats ? ['regionStats', 'children', code] : ['map', 'children', code],
    queryFn: async (): Promise<ChildRow[]> =>
      canStats
        ? (await api.regionChildStats({ params: { code } })).items
        : (await api.regionChildren({ params: { code } })).items.map((r) => ({
            code: r.code,
            name: r.name,
            level: r.level,
            centroid: r.centroid,
            openCases: null,
            overdueCases: null,
          })),
    placeholderData: keepPreviousData,
  });
  const stats = useQuery({
    queryKey: ['regionStats', 'region', code],
    queryFn: () => api.regionStats({ params: { code } }),
    enabled: canStats,
    placeholderData: keepPreviousData,
  });

  const [filters, setFilters] = useState<MapFilterValues>(defaultFilters);
  const [colourBy, setColourBy] = useState<ColourBy>('open');
  const caseFilters = {
    region: code,
    state: filters.state,
    categoryCode: filters.categoryCode,
    channel: filters.channel,
    from: filters.period?.[0],
    to: filters.period ? nextDay(filters.period[1]) : undefined,
  };
  // The list answers only the count (the map draws the cases from the tiles, whatever their number).
  const caseQuery: Partial<CaseListQuery> = { ...caseFilters, limit: 1 };
  // 导出 CSV: every case of the region matching the filters (GET /api/cases/export.csv, streamed, audited).
  const exportUrl = api.url('/api/cases/export.csv', {
    ...caseQuery,
    limit: undefined,
    lang: i18n.language === 'en' ? 'en' : 'zh',
  });
  const cases = useQuery({
    queryKey: ['cases', 'map', caseQuery],
    queryFn: ({ signal }) => api.cases({ query: caseQuery }, { signal }),
    enabled: canCases,
    placeholderData: keepPreviousData,
  });

  const [hovered, setHovered] = useState<string | null>(null);
  const [lastEvent, setLastEvent] = useState<Date | null>(null);
  // The case tiles follow the live events too: reloaded a few seconds after an event, once for all the events of
  // those seconds (a busy city sends many); a retry reloads them at once.
  const [tileVersion, setTileVersion] = useState(0);
  const tileRefresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  useCaseEvents(() => {
    setLastEvent(new Date());
    tileRefresh.current ??= setTimeout(() => {
      tileRefresh.current = null;
      setTileVersion(Date.now());
    }, tileRefreshDelay);
  });
  useEffect(
    () => () => {
      if (tileRefresh.current) clearTimeout(tileRefresh.current);
    },
    [],
  );
  const caseTiles = canCases ? caseTilesUrl(caseFilters, tileVersion) : null;

  const rows = children.data ?? noRows;
  const max = Math.max(0, ...rows.map((r) => metricOf(r, colourBy) ?? 0));
  const classes = useMemo(() => colourClasses(max, colourBy), [max, colourBy]);
  const childLevel = rows[0]?.level ?? (level ? childLevelOf(level) : null);

  const go = (next: { region: string; grid?: string | null }) => {
    const p = new URLSearchParams();
    p.set('region', next.region);
    if (next.grid) p.set('grid', next.grid);
    setParams(p);
  };
  const openChild = (row: ChildRow) =>
    isGridLevel(row.level) ? go({ region: code, grid: row.code }) : go({ region: row.code });
  const closeGrid = () => (atGrid ? setDismissed(code) : go({ region: code }));

  // (an error here is about the requested region; any data still shown is the previous region's)
  if (region.isError) return <LoadError error={region.error} onRetry={() => void region.refetch()} />;
  if (!region.data) return <Loading rows={10} />;

  const crumbItems = crumbCodes.map((c, i) => {
    const name = i === crumbCodes.length - 1 ? current?.name : crumbs[i]?.data?.name;
    const label = name ?? c;
    return {
      key: c,
      title:
        i === crumbCodes.length - 1 ? (
          <span aria-current="page" data-testid="crumb-current">
            {label}
          </span>
        ) : (
          <Link to={`/map?region=${c}`}>{label}</Link>
        ),
    };
  });
  const parentCode = crumbCodes.length > 1 ? crumbCodes[crumbCodes.length - 2] : null;

  const total = cases.data?.total ?? 0;
  const summary = canCases ? (
    <span
      data-testid="case-total"
      data-total={cases.data && !cases.isPlaceholderData ? total : ''}
      data-state={filters.state}
    >
      {cases.isFetching && <Spin size="small" style={{ marginInlineEnd: 8 }} />}
      <Typography.Text strong>{t(`state.${filters.state}`)}</Typography.Text>{' '}
      {cases.data
        ? cases.data.totalCapped
          ? t('count.capped', { total })
          : t('count.summary', { total })
        : '…'}
    </span>
  ) : null;

  return (
    <div className="map-page">
      <div className="map-page-head">
        <div className="map-page-title">
          <Typography.Title level={4} style={{ margin: 0 }}>
            {t('title')}
          </Typography.Title>
          <Breadcrumb items={crumbItems} data-testid="map-breadcrumb" />
        </div>
        <Space>
          {lastEvent && (
            <Tag color="green" data-testid="map-live">
              {t('live', { time: dayjs(lastEvent).format('HH:mm:ss') })}
            </Tag>
          )}
          {canCases && (
            <Tooltip title={t('exportCsvHint')}>
              <Button icon={<DownloadOutlined />} href={exportUrl} download data-testid="case-export">
                {t('exportCsv')}
              </Button>
            </Tooltip>
          )}
          {me.scope.length > 1 && (
            <Select
              aria-label={t('scopeSwitch')}
              style={{ width: 220 }}
              value={root?.regionCode}
              placeholder={t('scopeSwitch')}
              options={me.scope.map((s) => ({ value: s.regionCode, label: s.name }))}
              onChange={(v: string) => go({ region: v })}
            />
          )}
        </Space>
      </div>

      {canCases && <MapFilters value={filters} onChange={setFilters} summary={summary} />}

      <div className="map-body">
        <div className="map-main">
          <RegionCanvas
            key="map"
            code={code}
            name={current?.name}
            level={current?.level ?? level ?? 'city'}
            regionCentroid={current?.centroid ?? null}
            rows={rows}
            rowsReady={!!children.data && !children.isPlaceholderData && !!current}
            classes={classes}
            colourBy={colourBy}
            showCounts={canStats}
            selectedGrid={selectedGrid}
            caseTiles={caseTiles}
            casesState={{
              loading: canCases && cases.isPending,
              error: cases.isError ? cases.error : null,
              retry: () => {
                void cases.refetch();
                setTileVersion(Date.now());
              },
              empty: !!cases.data && cases.data.total === 0,
              state: filters.state,
              filtered:
                filters.state !== 'open' || !!filters.categoryCode || !!filters.channel || !!filters.period,
            }}
            boundaryAllowed={can(me, 'region.export')}
            onChild={openChild}
            hovered={hovered}
            setHovered={setHovered}
          />
        </div>

        <aside className="map-side" aria-label={current?.name}>
          <section className="map-side-card" data-testid="region-summary" aria-busy={stats.isFetching}>
            <h3 className="map-side-title">
              <span>
                {current?.name ?? region.data.name}{' '}
                <Tag>{t(`common:levels.${current?.level ?? region.data.level}`)}</Tag>
              </span>
              {parentCode && (
                <Button size="small" icon={<ArrowUpOutlined />} onClick={() => go({ region: parentCode })}>
                  {t('region.up')}
                </Button>
              )}
              {atGrid && selectedGrid === null && (
                <Button size="small" onClick={() => setDismissed(null)}>
                  {t('region.openGrid')}
                </Button>
              )}
            </h3>
            {canStats ? (
              stats.isError ? (
                <LoadError error={stats.error} onRetry={() => void stats.refetch()} />
              ) : stats.data && !stats.isPlaceholderData ? (
                <div className="map-stats">
                  <Stat label={t('region.openCases')} value={stats.data.counts.openCases} />
                  <Stat label={t('region.overdueCases')} value={stats.data.counts.overdueCases} danger />
                  <Stat label={t('region.grids')} value={stats.data.counts.grids} />
                  <Stat label={t('region.workers')} value={stats.data.counts.workers} />
                </div>
              ) : (
                <Loading rows={2} />
              )
            ) : (
              <Typography.Text type="secondary">{t('region.statsUnavailable')}</Typography.Text>
            )}
          </section>

          <section className="map-side-card is-scroll" data-testid="children-list">
            <h3 className="map-side-title">
              {t('region.children', {
                level: childLevel ? t(`common:levels.${childLevel}`) : '',
                count: rows.length,
              })}
            </h3>
            {canStats && rows.length > 0 && (
              <Segmented<ColourBy>
                block
                size="small"
                aria-label={t('filters.colourBy')}
                value={colourBy}
                onChange={setColourBy}
                options={[
                  { value: 'open', label: t('colourBy.open') },
                  { value: 'overdue', label: t('colourBy.overdue') },
                ]}
                style={{ marginBottom: 8 }}
                data-testid="colour-by"
              />
            )}
            <ChildList
              rows={rows}
              loading={children.isPending}
              error={children.isError ? children.error : null}
              retry={() => void children.refetch()}
              colourBy={colourBy}
              classes={classes}
              showCounts={canStats}
              selected={selectedGrid}
              onChild={openChild}
              hovered={hovered}
              setHovered={setHovered}
            />
          </section>
        </aside>
      </div>

      <GridDrawer gridCode={selectedGrid} onClose={() => closeGrid()} />
    </div>
  );
}

function ChildList({
  rows,
  loading,
  error,
  retry,
  colourBy,
  classes,
  showCounts,
  selected,
  onChild,
  hovered,
  setHovered,
}: {
  hovered: string | null;
  setHovered: (code: string | null) => void;
  rows: ChildRow[];
  loading: boolean;
  error: unknown;
  retry: () => void;
  colourBy: ColourBy;
  classes: ReturnType<typeof colourClasses>;
  showCounts: boolean;
  selected: string | null;
  onChild: (row: ChildRow) => void;
}) {
  const { t } = useTranslation('map');
  if (loading) return <Loading rows={5} />;
  if (error) return <LoadError error={error} onRetry={retry} />;
  if (rows.length === 0) return <EmptyState description={t('region.childrenEmpty')} />;
  return (
    <>
      {showCounts && (
        <div className="map-child-head" aria-hidden>
          <span style={{ flex: 1 }} />
          <span className="map-child-num">{t('region.openCases')}</span>
          <span className="map-child-num">{t('region.overdueCases')}</span>
        </div>
      )}
      <ul className="map-children">
        {rows.map((row) => (
          <li key={row.code}>
            <button
              type="button"
              className={`map-child ${selected === row.code ? 'is-selected' : ''} ${hovered === row.code ? 'is-hover' : ''}`}
              data-testid={`child-${row.code}`}
              onClick={() => onChild(row)}
              onMouseEnter={() => setHovered(row.code)}
              onMouseLeave={() => setHovered(null)}
              onFocus={() => setHovered(row.code)}
              onBlur={() => setHovered(null)}
              title={isGridLevel(row.level) ? t('region.openGrid') : t('region.drill')}
            >
              {showCounts && (
                <span
                  className="map-child-swatch"
                  style={{ background: colourOf(metricOf(row, colourBy), classes) }}
                  aria-hidden
                />
              )}
              <span className="map-child-name">{row.name}</span>
              {showCounts && (
                <>
                  <span className="map-child-num" aria-label={t('region.openCases')}>
                    {row.openCases}
                  </span>
                  <span
                    className={`map-child-num ${(row.overdueCases ?? 0) > 0 ? 'is-danger' : ''}`}
                    aria-label={t('region.overdueCases')}
                  >
                    {row.overdueCases}
                  </span>
                </>
              )}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

interface CasesState {
  loading: boolean;
  error: unknown;
  retry: () => void;
  empty: boolean;
  state: MapFilterValues['state'];
  /** any filter beyond the default (open cases, everything) */
  filtered: boolean;
}

/** The map itself: created once, then re-coloured, re-filtered and moved as the user drills down. */
function RegionCanvas({
  code,
  name,
  level,
  regionCentroid,
  rows,
  rowsReady,
  classes,
  colourBy,
  showCounts,
  selectedGrid,
  caseTiles,
  casesState,
  boundaryAllowed,
  onChild,
  hovered,
  setHovered,
}: {
  hovered: string | null;
  setHovered: (code: string | null) => void;
  code: string;
  name: string | undefined;
  level: string;
  regionCentroid: LngLat | null;
  rows: ChildRow[];
  rowsReady: boolean;
  classes: ReturnType<typeof colourClasses>;
  colourBy: ColourBy;
  showCounts: boolean;
  selectedGrid: string | null;
  /** the case tiles' URL for the current filters; null: the user may not read cases (no case layer) */
  caseTiles: string | null;
  casesState: CasesState;
  boundaryAllowed: boolean;
  onChild: (row: ChildRow) => void;
}) {
  const handle = useMapLibre({
    style: () => baseStyle(),
    center: regionCentroid ?? undefined,
    zoom: zoomFor(level),
  });
  const { map } = handle;
  const [popupCase, setPopupCase] = useState<CasePoint | null>(null);
  const [tileError, setTileError] = useState<{ tiles: string; error: Error } | null>(null);
  const childrenInGrids = isGridLevel(rows[0]?.level);

  // Latest values for the map's event handlers, which are bound once.
  const latest = useRef({ rows, onChild, caseTiles });
  latest.current = { rows, onChild, caseTiles };

  useEffect(() => {
    if (!map) return;
    installRegionLayers(map, latest.current.caseTiles);
    const clickable = [...(map.getSource(casesSource) ? caseLayers : []), ...childFillLayers];
    const onClick = (e: maplibregl.MapMouseEvent) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: clickable });
      const clusterHit = hit.find((f) => f.layer.id === 'case-clusters');
      const pointHit = hit.find((f) => f.layer.id === 'case-points');
      const childHit = hit.find((f) => (childFillLayers as readonly string[]).includes(f.layer.id));
      if (clusterHit && clusterHit.geometry.type === 'Point') {
        // A cluster is one cell of its tile: two zoom levels deeper it splits, from z15 on into single cases.
        const centre = clusterHit.geometry.coordinates as LngLat;
        map.easeTo({ center: centre, zoom: Math.min(Math.floor(map.getZoom()) + 2, casePointsMinZoom) });
        return;
      }
      if (pointHit && pointHit.geometry.type === 'Point') {
        const p = pointHit.properties;
        setPopupCase({
          id: Number(p.id),
          serial: String(p.serial),
          status: String(p.status) as CaseStatus,
          overdue: p.overdue === true,
          urgent: p.urgent === true,
          point: pointHit.geometry.coordinates as LngLat,
        });
        return;
      }
      if (childHit) {
        const row = latest.current.rows.find((r) => r.code === String(childHit.properties.code));
        if (row) latest.current.onChild(row);
      }
    };
    const onMove = (e: maplibregl.MapMouseEvent) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: clickable });
      map.getCanvas().style.cursor = hit.length ? 'pointer' : '';
      const child = hit.find((f) => (childFillLayers as readonly string[]).includes(f.layer.id));
      setHovered(child ? String(child.properties.code) : null);
    };
    const onOut = () => setHovered(null);
    // A case tile that fails (session ended, region out of scope) is said above the map, not left blank.
    const onError = (e: maplibregl.ErrorEvent & { sourceId?: string }) => {
      if (e.sourceId === casesSource && latest.current.caseTiles)
        setTileError({ tiles: latest.current.caseTiles, error: new Error(e.error?.message ?? 'error') });
    };
    // What the case layer draws once the map settles, on the canvas element for tests: `data-cases-drawn` (the
    // cases in the clusters and points in view), `data-case-points` / `data-case-clusters` (where some are, in
    // pixels: `x,y;x,y…`).
    const onIdle = () => {
      if (!map.getSource(casesSource)) return;
      let drawn = 0;
      const at: Record<string, string[]> = { 'case-points': [], 'case-clusters': [] };
      for (const f of map.queryRenderedFeatures({ layers: [...caseLayers] })) {
        drawn += f.layer.id === 'case-clusters' ? Number(f.properties.count) || 0 : 1;
        const list = at[f.layer.id];
        if (list && list.length < 20 && f.geometry.type === 'Point') {
          const { x, y } = map.project(f.geometry.coordinates as LngLat);
          list.push(`${Math.round(x)},${Math.round(y)}`);
        }
      }
      const data = map.getContainer().dataset;
      data.casesDrawn = String(drawn);
      data.casePoints = at['case-points']!.join(';');
      data.caseClusters = at['case-clusters']!.join(';');
    };
    map.on('click', onClick);
    map.on('mousemove', onMove);
    map.on('mouseout', onOut);
    map.on('error', onError);
    map.on('idle', onIdle);
    return () => {
      map.off('click', onClick);
      map.off('mousemove', onMove);
      map.off('mouseout', onOut);
      map.off('error', onError);
      map.off('idle', onIdle);
    };
  }, [map]);

  // Colours, filters and outlines of the drill-down.
  useEffect(() => {
    if (!map) return;
    applyRegionView(map, { code, level, children: rows, classes, colourBy, selectedGrid });
  }, [map, code, level, rows, classes, colourBy, selectedGrid]);

  // Hover highlight (map ↔ list ↔ labels).
  useEffect(() => {
    if (!map || !hovered) return;
    const target = { source: tileSource, sourceLayer: childrenInGrids ? 'grids' : 'regions', id: hovered };
    map.setFeatureState(target, { hover: true });
    return () => {
      if (map.getSource(tileSource)) map.setFeatureState(target, { hover: false });
    };
  }, [map, hovered, childrenInGrids]);

  // The case layer follows the filters and the region (and reloads after live events or a retry).
  useEffect(() => {
    if (!map || !caseTiles) return;
    const source = map.getSource<maplibregl.VectorTileSource>(casesSource);
    if (source && source.tiles?.[0] !== caseTiles) source.setTiles([caseTiles]);
  }, [map, caseTiles]);
  const casesError =
    casesState.error ?? (tileError && tileError.tiles === caseTiles ? tileError.error : null);

  // Fly to the region once its children are known (centroids), or to its own boundary where the user may
  // read it (streets and below: small files). The grid panel covers the map's right edge: pad for it.
  const fitted = useRef<string | null>(null);
  const lastBounds = useRef<{ code: string; bounds: Bounds } | null>(null);
  const currentCode = useRef(code);
  currentCode.current = code;
  const panelOpen = selectedGrid !== null;
  const padding = useRef(() => ({ top: 40, bottom: 40, left: 40, right: 40 }));
  padding.current = () => {
    const box = handle.containerRef.current?.getBoundingClientRect();
    const covered = panelOpen && box ? Math.max(0, box.right - (window.innerWidth - gridDrawerWidth)) : 0;
    return { top: 40, bottom: 40, left: 40, right: 40 + Math.min(covered, (box?.width ?? 0) / 2) };
  };
  useEffect(() => {
    if (!map || !rowsReady || fitted.current === code) return;
    fitted.current = code;
    const fit = async () => {
      let bounds: Bounds | null = null;
      if (boundaryAllowed && ['street', 'community', 'grid', 'microgrid'].includes(level))
        bounds = await boundaryBounds(map, code);
      bounds ??= boundsAround(
        rows.flatMap((r) => (r.centroid ? [r.centroid] : [])),
        minSpanFor(rows[0]?.level),
      );
      if (currentCode.current !== code) return;
      lastBounds.current = bounds ? { code, bounds } : null;
      if (bounds) {
        map.fitBounds(bounds, { padding: padding.current(), duration: 900, maxZoom: 17 });
        return;
      }
      if (!regionCentroid) return;
      // No children and no boundary file (a grid worker's grid): look at the centre, then frame the region's
      // outline from the tiles that came in (again while zooming out brings in more of it).
      map.flyTo({ center: regionCentroid, zoom: zoomFor(level), duration: 600 });
      let rounds = 0;
      const frame = () => {
        const loaded = loadedBounds(map, isGridLevel(level) ? 'grids' : 'regions', code);
        if (!loaded || currentCode.current !== code) return;
        const before = lastBounds.current?.code === code ? lastBounds.current.bounds : null;
        const same = before?.every((v, i) => Math.abs(v - loaded[i]!) < 1e-5);
        lastBounds.current = { code, bounds: loaded };
        if (same) return;
        map.fitBounds(loaded, { padding: padding.current(), duration: 400, maxZoom: 17 });
        if (++rounds < 3) map.once('idle', frame);
      };
      map.once('idle', frame);
      map.triggerRepaint();
    };
    void fit();
  }, [map, code, level, rows, rowsReady, boundaryAllowed, regionCentroid]);
  useEffect(() => {
    const last = lastBounds.current;
    if (map && last && last.code === currentCode.current)
      map.fitBounds(last.bounds, { padding: padding.current(), duration: 600, maxZoom: 17 });
  }, [map, panelOpen]);

  return (
    <MapFrame handle={handle} height="100%">
      {map &&
        rows.map((row) =>
          row.centroid ? (
            <MapMarker key={row.code} map={map} lngLat={row.centroid} zIndex={hovered === row.code ? 2 : 1}>
              <button
                type="button"
                className={`map-region-label ${hovered === row.code ? 'is-hover' : ''} ${
                  selectedGrid === row.code ? 'is-selected' : ''
                }`}
                data-testid={`label-${row.code}`}
                tabIndex={-1}
                onMouseEnter={() => setHovered(row.code)}
                onMouseLeave={() => setHovered(null)}
                onClick={() => onChild(row)}
                title={row.name}
              >
                {shortName(row.name, name)}
                {showCounts && (
                  <span
                    className="map-region-count"
                    style={{
                      background:
                        (metricOf(row, colourBy) ?? 0) > 0
                          ? colourBy === 'overdue'
                            ? '#c62828'
                            : '#d9480f'
                          : '#9aa5ad',
                    }}
                  >
                    {metricOf(row, colourBy)}
                  </span>
                )}
              </button>
            </MapMarker>
          ) : null,
        )}
      {map && popupCase && (
        <MapPopup map={map} lngLat={popupCase.point} onClose={() => setPopupCase(null)}>
          <CasePopup point={popupCase} />
        </MapPopup>
      )}
      <CasesBanner state={{ ...casesState, error: casesError }} />
      {(rows.length > 0 || caseTiles) && (
        <MapLegend
          classes={classes}
          colourBy={colourBy}
          showRegions={showCounts && rows.length > 0}
          showCases={caseTiles !== null}
          filtered={casesState.filtered}
        />
      )}
    </MapFrame>
  );
}

/** The current region's bounds from its boundary file (loaded by MapLibre); null when it cannot be read. */
async function boundaryBounds(
  map: maplibregl.Map,
  code: string,
): Promise<[number, number, number, number] | null> {
  if (!map.getSource('focus-boundary'))
    map.addSource('focus-boundary', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  const source = map.getSource<maplibregl.GeoJSONSource>('focus-boundary');
  if (!source) return null;
  try {
    const load = source
      .setData(api.url(`/api/regions/${code}/boundaries.geojson`))
      .then(() => source.getBounds());
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 4000));
    const bounds = await Promise.race([load, timeout]);
    if (!bounds || bounds.isEmpty()) return null;
    return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()];
  } catch {
    return null;
  }
}

function CasesBanner({ state }: { state: CasesState }) {
  const { t } = useTranslation('map');
  if (state.loading)
    return (
      <div className="map-float map-float-top" role="status">
        <Spin size="small" /> {t('loadingCases')}
      </div>
    );
  if (state.error)
    return (
      <div className="map-float map-float-top" style={{ padding: 0 }}>
        <Alert
          type="error"
          showIcon
          title={`${t('casesFailed')}：${errorMessage(state.error)}`}
          action={
            <Button size="small" onClick={state.retry}>
              {t('common:retry')}
            </Button>
          }
        />
      </div>
    );
  if (state.empty)
    return (
      <div className="map-float map-float-top" role="status" data-testid="map-empty">
        {t(`empty.${state.state}`)}
      </div>
    );
  return null;
}

/** A case point of the tiles (what its feature carries: no title, address or reporter). */
interface CasePoint {
  id: number;
  serial: string;
  status: CaseStatus;
  overdue: boolean;
  urgent: boolean;
  point: LngLat;
}

/** The popup of a case point: what the tile says at once, the title and grid from the case (GET /api/cases/{id}). */
function CasePopup({ point }: { point: CasePoint }) {
  const { t } = useTranslation('map');
  const detail = useQuery({
    queryKey: ['case', point.id],
    queryFn: ({ signal }) => api.case({ params: { id: point.id } }, { signal }),
    staleTime: 15_000,
  });
  const item = detail.data;
  return (
    <div data-testid="case-popup" data-case-id={point.id}>
      <div className="map-popup-serial">{point.serial}</div>
      <div className="map-popup-title">
        {item ? item.title : detail.isError ? errorMessage(detail.error) : <Spin size="small" />}
      </div>
      <div className="map-popup-meta">
        <Tag color="blue">{t(`common:status.${item?.status ?? point.status}`)}</Tag>
        {(item?.overdue ?? point.overdue) && <Tag color="red">{t('common:overdue')}</Tag>}
        {(item?.urgent ?? point.urgent) && <Tag color="orange">{t('common:urgent')}</Tag>}
      </div>
      {item && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {item.grid.name} · {t('popup.reportedAt', { time: dayjs(item.reportedAt).format('MM-DD HH:mm') })}
        </Typography.Text>
      )}
      <div style={{ marginTop: 6 }}>
        <Link to={`/cases/${point.id}`}>{t('popup.open')} →</Link>
      </div>
    </div>
  );
}
