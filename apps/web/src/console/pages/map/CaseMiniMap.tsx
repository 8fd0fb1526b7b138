import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import { EmptyState } from '../../shared/states.tsx';
import { MapFrame, MapMarker, useGridLabels, useMapLibre } from './mapKit.tsx';
import {
  baseStyle,
  loadedBounds,
  mapColours,
  tileSource,
  type FilterSpecification,
  type LngLat,
} from './mapStyle.ts';

export interface CaseMiniMapProps {
  /** the case's point [lng, lat] WGS-84 */
  point: [number, number] | null;
  /** the case's grid, outlined */
  gridCode?: string;
  height?: number;
}

/** Where the case is: its point over the grid tiles, its grid outlined, at street scale (~z15). */
export default function CaseMiniMap({ point, gridCode, height = 240 }: CaseMiniMapProps) {
  const { t } = useTranslation('map');
  // Without a point, the grid's own centre.
  const grid = useQuery({
    queryKey: ['map', 'region', gridCode ?? ''],
    queryFn: () => api.region({ params: { code: gridCode! } }),
    enabled: !point && !!gridCode,
    staleTime: 300_000,
    retry: false,
  });
  const centre: LngLat | null = point ?? grid.data?.centroid ?? null;
  if (!centre) {
    if (!point && gridCode && grid.isPending)
      return <div className="map-frame" style={{ height }} aria-busy />;
    return (
      <div
        className="map-frame"
        style={{ height, display: 'flex', alignItems: 'center', justifyContent: 'center' }}
      >
        <EmptyState description={t('mini.noPoint')} />
      </div>
    );
  }
  return <MiniCanvas centre={centre} point={point} gridCode={gridCode} height={height} />;
}

function MiniCanvas({
  centre,
  point,
  gridCode,
  height,
}: {
  centre: LngLat;
  point: LngLat | null;
  gridCode?: string;
  height: number;
}) {
  const { t } = useTranslation('map');
  const handle = useMapLibre({
    style: () => baseStyle({ gridLabels: true }),
    center: centre,
    zoom: 14.5,
    scrollZoom: false,
  });
  const { map } = handle;
  useGridLabels(map);

  useEffect(() => {
    if (!map) return;
    if (!map.getLayer('case-grid-line')) {
      map.addLayer(
        {
          id: 'case-grid-fill',
          type: 'fill',
          source: tileSource,
          'source-layer': 'grids',
          filter: ['==', ['get', 'code'], '__none__'],
          paint: { 'fill-color': mapColours.focus, 'fill-opacity': 0.07 },
        },
        'grid-label',
      );
      map.addLayer(
        {
          id: 'case-grid-line',
          type: 'line',
          source: tileSource,
          'source-layer': 'grids',
          filter: ['==', ['get', 'code'], '__none__'],
          layout: { 'line-join': 'round' },
          paint: { 'line-color': mapColours.focus, 'line-width': 2.5 },
        },
        'grid-label',
      );
    }
    const filter: FilterSpecification = ['==', ['get', 'code'], gridCode ?? '__none__'];
    map.setFilter('case-grid-fill', filter);
    map.setFilter('case-grid-line', filter);
  }, [map, gridCode]);

  // Frame the whole grid (and the point) once its tiles are in: about z15 for a grid of the usual size.
  const [lng, lat] = centre;
  const [pLng, pLat] = point ?? [NaN, NaN];
  useEffect(() => {
    if (!map) return;
    map.jumpTo({ center: [lng, lat] });
    if (!gridCode) return;
    let framed = false;
    const frame = () => {
      const box = framed ? null : loadedBounds(map, 'grids', gridCode);
      if (!box) return;
      framed = true;
      const [w, s, e, n] = Number.isNaN(pLng)
        ? box
        : [Math.min(box[0], pLng), Math.min(box[1], pLat), Math.max(box[2], pLng), Math.max(box[3], pLat)];
      map.fitBounds([w, s, e, n], {
        padding: { top: 44, bottom: 20, left: 24, right: 24 },
        maxZoom: 16.5,
        duration: 0,
      });
    };
    frame();
    map.on('idle', frame);
    return () => {
      map.off('idle', frame);
    };
  }, [map, lng, lat, gridCode, pLng, pLat]);

  return (
    <MapFrame handle={handle} height={height} label={t('title')}>
      {map && point && (
        <MapMarker map={map} lngLat={point} anchor="bottom">
          <div style={{ paddingBottom: 4 }}>
            <div className="map-pin" data-testid="case-pin" />
          </div>
        </MapMarker>
      )}
    </MapFrame>
  );
}
