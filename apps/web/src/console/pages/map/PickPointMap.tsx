import { AimOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import { homeRegion, useAuth } from '../../shared/auth.tsx';
import { MapFrame, MapMarker, useGridLabels, useMapLibre } from './mapKit.tsx';
import {
  baseStyle,
  mapColours,
  tileSource,
  type FilterSpecification,
  type LngLat,
  type maplibregl,
} from './mapStyle.ts';

export interface PickPointMapProps {
  /** the picked point [lng, lat] WGS-84 */
  value: [number, number] | null;
  onChange: (point: [number, number]) => void;
  /** where to look first when nothing is picked */
  center?: [number, number];
  /** other points to show (e.g. possible duplicates) */
  markers?: { point: [number, number]; label: string }[];
  height?: number;
}

const nothing: FilterSpecification = ['==', ['get', 'code'], '__none__'];

/**
 * Where did it happen: a map of the grids on which a click sets the point (a draggable pin), with other points
 * labelled beside it (possible duplicates). The grid under the pin is outlined. Keyboard users pan with the arrow
 * keys and take the map's centre with the button below.
 */
export default function PickPointMap({ value, onChange, center, markers, height = 320 }: PickPointMapProps) {
  const { me } = useAuth();
  const home = me ? homeRegion(me) : null;
  const needFallback = !value && !center;
  const fallback = useQuery({
    queryKey: ['map', 'region', home?.code ?? ''],
    queryFn: () => api.region({ params: { code: home!.code } }),
    enabled: needFallback && !!home,
    staleTime: 300_000,
  });
  const start: LngLat | null = value ?? center ?? fallback.data?.centroid ?? null;
  if (!start && needFallback && home && fallback.isPending)
    return <div className="map-frame" style={{ height: height + 26 }} aria-busy />;
  return (
    <PickPointCanvas
      value={value}
      onChange={onChange}
      center={center}
      markers={markers}
      height={height}
      start={start ?? [0, 0]}
      startZoom={value ? 16 : start ? 14 : 2}
    />
  );
}

function PickPointCanvas({
  value,
  onChange,
  center,
  markers,
  height,
  start,
  startZoom,
}: Required<Pick<PickPointMapProps, 'height'>> &
  Omit<PickPointMapProps, 'height'> & { start: LngLat; startZoom: number }) {
  const { t } = useTranslation('map');
  const handle = useMapLibre({
    style: () => baseStyle({ gridLabels: true }),
    center: start,
    zoom: startZoom,
  });
  const { map } = handle;
  useGridLabels(map);
  const change = useRef(onChange);
  change.current = onChange;
  const [gridName, setGridName] = useState<string | null>(null);

  useEffect(() => {
    if (!map) return;
    if (!map.getLayer('pick-grid-hit')) {
      map.addLayer(
        {
          id: 'pick-grid-hit',
          type: 'fill',
          source: tileSource,
          'source-layer': 'grids',
          filter: ['==', ['get', 'level'], 'grid'],
          paint: { 'fill-color': '#000000', 'fill-opacity': 0 },
        },
        'grid-label',
      );
      map.addLayer(
        {
          id: 'pick-grid-fill',
          type: 'fill',
          source: tileSource,
          'source-layer': 'grids',
          filter: nothing,
          paint: { 'fill-color': mapColours.focus, 'fill-opacity': 0.08 },
        },
        'grid-label',
      );
      map.addLayer(
        {
          id: 'pick-grid',
          type: 'line',
          source: tileSource,
          'source-layer': 'grids',
          filter: nothing,
          paint: { 'line-color': mapColours.focus, 'line-width': 2.5 },
        },
        'grid-label',
      );
    }
    const onClick = (e: maplibregl.MapMouseEvent) => change.current([e.lngLat.lng, e.lngLat.lat]);
    map.on('click', onClick);
    map.getCanvas().style.cursor = 'crosshair';
    return () => {
      map.off('click', onClick);
    };
  }, [map]);

  // Outline the grid under the pin (from the rendered tiles: no request).
  const [lng, lat] = value ?? [NaN, NaN];
  useEffect(() => {
    if (!map) return;
    if (Number.isNaN(lng)) {
      map.setFilter('pick-grid', nothing);
      map.setFilter('pick-grid-fill', nothing);
      setGridName(null);
      return;
    }
    if (!map.getBounds().contains([lng, lat])) map.easeTo({ center: [lng, lat], duration: 500 });
    const outline = () => {
      const hit = map.queryRenderedFeatures(map.project([lng, lat]), { layers: ['pick-grid-hit'] })[0];
      const filter: FilterSpecification = hit
        ? ['==', ['get', 'code'], String(hit.properties.code)]
        : nothing;
      map.setFilter('pick-grid', filter);
      map.setFilter('pick-grid-fill', filter);
      setGridName(hit ? String(hit.properties.name) : null);
    };
    if (map.loaded()) outline();
    map.once('idle', outline);
    return () => {
      map.off('idle', outline);
    };
  }, [map, lng, lat]);

  // A new place to look (e.g. the address was chosen) when nothing is picked yet.
  const [cLng, cLat] = center ?? [NaN, NaN];
  useEffect(() => {
    if (!map || Number.isNaN(cLng) || !Number.isNaN(lng)) return;
    map.flyTo({ center: [cLng, cLat], zoom: Math.max(map.getZoom(), 15), duration: 700 });
    // only when the centre moves, not when a point is picked (lng is read, not watched)
  }, [map, cLng, cLat]);

  return (
    <div>
      <MapFrame handle={handle} height={height} label={t('pick.hint')}>
        {map &&
          (markers ?? []).map((m, i) => (
            <MapMarker key={`${m.point.join(',')}-${i}`} map={map} lngLat={m.point} anchor="left" zIndex={1}>
              <span className="map-pin-other" title={m.label}>
                {m.label}
              </span>
            </MapMarker>
          ))}
        {map && value && (
          <MapMarker
            map={map}
            lngLat={value}
            anchor="bottom"
            draggable
            zIndex={3}
            onDragEnd={(p) => change.current(p)}
          >
            <div style={{ paddingBottom: 4 }}>
              <div className="map-pin is-draggable" data-testid="pick-pin" />
            </div>
          </MapMarker>
        )}
      </MapFrame>
      <div className="map-pick-bar">
        <span data-testid="pick-status">
          {value
            ? `${t('pick.picked', { lng: value[0].toFixed(6), lat: value[1].toFixed(6) })}${gridName ? ` · ${gridName}` : ''}`
            : t('pick.hint')}
        </span>
        <Button
          size="small"
          icon={<AimOutlined />}
          disabled={!map}
          onClick={() => {
            if (!map) return;
            const c = map.getCenter();
            change.current([Number(c.lng.toFixed(7)), Number(c.lat.toFixed(7))]);
          }}
        >
          {t('pick.useCentre')}
        </Button>
      </div>
    </div>
  );
}
