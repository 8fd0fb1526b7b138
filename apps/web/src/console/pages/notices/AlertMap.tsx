import { useQuery } from '@tanstack/react-query';
import type { Sighting } from '@wangge/contracts';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import { MapFrame, MapMarker, useGridLabels, useMapLibre } from '../map/mapKit.tsx';
import {
  baseStyle,
  loadedBounds,
  tileSource,
  type FilterSpecification,
  type LngLat,
} from '../map/mapStyle.ts';
import './alerts.css';
import { formatTime } from './ui.tsx';

export const alertMapColours = {
  acknowledged: '#389e0d',
  pending: '#cf1322',
  /** grids that never acknowledged a closed alert: no longer urgent */
  closed: '#8c8c8c',
  sighting: '#1d5fd1',
} as const;

export interface AlertMapProps {
  regionCode: string;
  grids: { gridCode: string; acknowledged: boolean }[];
  sightings: Sighting[];
  lastSeen: LngLat | null;
  /** a closed alert: grids not acknowledged are grey, not red */
  closed?: boolean;
  height?: number;
}

const none = '__none__';
const inCodes = (codes: string[]): FilterSpecification => [
  'in',
  ['get', 'code'],
  ['literal', codes.length ? codes : [none]],
];

/**
 * The alert on the map (the server's grid tiles, no basemap): every grid of the area green once acknowledged,
 * red until then; sightings as blue points labelled with their time and text; the last-seen point as a red pin.
 * Loaded lazily with MapLibre.
 */
export default function AlertMap({
  regionCode,
  grids,
  sightings,
  lastSeen,
  closed = false,
  height = 460,
}: AlertMapProps) {
  const region = useQuery({
    queryKey: ['region', regionCode],
    queryFn: () => api.region({ params: { code: regionCode } }),
    staleTime: 300_000,
    retry: false,
  });
  const first = sightings[0];
  const centre: LngLat | null =
    region.data?.centroid ?? lastSeen ?? (first ? [first.location.lng, first.location.lat] : null);
  if (!centre) return <div className="map-frame" style={{ height }} aria-busy={region.isPending} />;
  return (
    <AlertCanvas
      centre={centre}
      regionCode={regionCode}
      grids={grids}
      sightings={sightings}
      lastSeen={lastSeen}
      closed={closed}
      height={height}
    />
  );
}

function AlertCanvas({
  centre,
  regionCode,
  grids,
  sightings,
  lastSeen,
  closed,
  height,
}: Required<AlertMapProps> & { centre: LngLat }) {
  const { t } = useTranslation('notices');
  const handle = useMapLibre({ style: () => baseStyle({ gridLabels: true }), center: centre, zoom: 13 });
  const { map } = handle;
  useGridLabels(map);

  const acknowledged = grids.filter((g) => g.acknowledged).map((g) => g.gridCode);
  const pending = grids.filter((g) => !g.acknowledged).map((g) => g.gridCode);
  const ackKey = acknowledged.join(',');
  const pendingKey = pending.join(',');

  useEffect(() => {
    if (!map) return;
    if (!map.getLayer('alert-grid-ack')) {
      for (const [id, colour] of [
        ['alert-grid-ack', alertMapColours.acknowledged],
        ['alert-grid-pending', alertMapColours.pending],
      ] as const) {
        map.addLayer(
          {
            id,
            type: 'fill',
            source: tileSource,
            'source-layer': 'grids',
            filter: inCodes([]),
            paint: { 'fill-color': colour, 'fill-opacity': 0.28, 'fill-outline-color': colour },
          },
          'grid-label',
        );
      }
      map.addLayer(
        {
          id: 'alert-area-line',
          type: 'line',
          source: tileSource,
          'source-layer': 'regions',
          filter: ['==', ['get', 'code'], regionCode],
          paint: { 'line-color': '#82111b', 'line-width': 2.5 },
        },
        'grid-label',
      );
    }
    map.setFilter('alert-grid-ack', inCodes(ackKey ? ackKey.split(',') : []));
    map.setFilter('alert-grid-pending', inCodes(pendingKey ? pendingKey.split(',') : []));
    const pendingColour = closed ? alertMapColours.closed : alertMapColours.pending;
    map.setPaintProperty('alert-grid-pending', 'fill-color', pendingColour);
    map.setPaintProperty('alert-grid-pending', 'fill-outline-color', pendingColour);
  }, [map, ackKey, pendingKey, regionCode, closed]);

  // Frame the alerted area (and the points on it) once its tiles are in (a street: about z13); a sighting that
  // arrives later outside the view widens it.
  const points: LngLat[] = [
    ...(lastSeen ? [lastSeen] : []),
    ...sightings.map((x): LngLat => [x.location.lng, x.location.lat]),
  ];
  const pointsKey = points.map((p) => p.join(',')).join(';');
  const framed = useRef(false);
  useEffect(() => {
    if (!map) return;
    const known = pointsKey ? pointsKey.split(';').map((p) => p.split(',').map(Number) as LngLat) : [];
    const widen = (box: [number, number, number, number]) => {
      for (const [x, y] of known)
        box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)];
      return box;
    };
    const padding = { top: 72, bottom: 28, left: 40, right: 40 };
    if (framed.current) {
      const view = map.getBounds();
      if (known.every((p) => view.contains(p))) return;
      map.fitBounds(widen([view.getWest(), view.getSouth(), view.getEast(), view.getNorth()]), {
        padding,
        maxZoom: 16,
        duration: 400,
      });
      return;
    }
    const frame = () => {
      if (framed.current) return;
      const box = loadedBounds(map, 'regions', regionCode) ?? loadedBounds(map, 'grids', regionCode);
      if (!box) return;
      framed.current = true;
      map.fitBounds(widen(box), { padding, maxZoom: 16, duration: 0 });
    };
    frame();
    map.on('idle', frame);
    return () => {
      map.off('idle', frame);
    };
  }, [map, regionCode, pointsKey]);

  return (
    <MapFrame handle={handle} height={height} label={t('board.map')}>
      <div className="alert-map-legend" data-testid="alert-map-legend">
        <div>
          <span className="swatch" style={{ background: alertMapColours.acknowledged, opacity: 0.6 }} />
          {t('board.legendAck')} <b data-testid="map-ack-count">{acknowledged.length}</b>
        </div>
        <div>
          <span
            className="swatch"
            style={{ background: closed ? alertMapColours.closed : alertMapColours.pending, opacity: 0.6 }}
          />
          {t('board.legendPending')} <b data-testid="map-pending-count">{pending.length}</b>
        </div>
        <div>
          <span className="dot" style={{ background: alertMapColours.sighting }} />
          {t('board.legendSighting')} <b>{sightings.length}</b>
        </div>
        {lastSeen && (
          <div>
            <span className="dot" style={{ background: '#b71c1c' }} />
            {t('board.legendLastSeen')}
          </div>
        )}
      </div>
      {map && lastSeen && (
        <MapMarker map={map} lngLat={lastSeen} anchor="bottom" zIndex={2}>
          <div className="alert-sighting" data-testid="alert-lastseen-marker">
            <span className="alert-lastseen-label">{t('board.legendLastSeen')}</span>
            <div style={{ paddingBottom: 4 }}>
              <div className="map-pin" style={{ width: 18, height: 18 }} />
            </div>
          </div>
        </MapMarker>
      )}
      {map &&
        sightings.map((s) => (
          <MapMarker
            key={s.id}
            map={map}
            lngLat={[s.location.lng, s.location.lat]}
            anchor="bottom"
            zIndex={3}
          >
            <div
              className="alert-sighting"
              title={`${formatTime(s.seenAt)} ${s.note}`}
              data-testid="alert-sighting-marker"
            >
              <span className="alert-sighting-label">
                {formatTime(s.seenAt).slice(11)} {s.note}
              </span>
              <span className="alert-sighting-dot" />
            </div>
          </MapMarker>
        ))}
    </MapFrame>
  );
}
