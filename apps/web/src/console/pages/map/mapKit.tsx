import { Result, Spin } from 'antd';
import { useEffect, useRef, useState, type CSSProperties, type ReactNode, type RefObject } from 'react';
import { createPortal } from 'react-dom';
import { useTranslation } from 'react-i18next';
import {
  gridLabelMinZoom,
  gridLabelPoints,
  gridLabelSource,
  maplibregl,
  mapLocale,
  webglSupported,
  type LngLat,
  type StyleSpecification,
} from './mapStyle.ts';

/**
 * React glue for MapLibre shared by the three maps: one hook that creates and removes the map, one component for
 * HTML markers rendered through portals (labels, pins), and the designed states of the map area (loading, no
 * WebGL, failed).
 */

export type MapStatus = 'loading' | 'ready' | 'unavailable' | 'failed';

export interface MapLibreOptions {
  style: () => StyleSpecification;
  center?: LngLat;
  zoom?: number;
  /** false: wheel does not zoom (small maps inside scrolling pages) */
  scrollZoom?: boolean;
}

export interface MapLibreHandle {
  containerRef: RefObject<HTMLDivElement | null>;
  /** set once the style has loaded; null before and after */
  map: maplibregl.Map | null;
  status: MapStatus;
  error: string | null;
}

/** Creates the map on mount (once), tracks the container's size, removes the map on unmount. */
export function useMapLibre(options: MapLibreOptions): MapLibreHandle {
  const { t } = useTranslation('map');
  const containerRef = useRef<HTMLDivElement | null>(null);
  const [map, setMap] = useState<maplibregl.Map | null>(null);
  const [status, setStatus] = useState<MapStatus>('loading');
  const [error, setError] = useState<string | null>(null);
  const initial = useRef(options);
  const controls = useRef(t('controls', { returnObjects: true }));

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    if (!webglSupported()) {
      setStatus('unavailable');
      return;
    }
    const { style, center, zoom, scrollZoom } = initial.current;
    let instance: maplibregl.Map;
    try {
      instance = new maplibregl.Map({
        container,
        style: style(),
        center: center ?? [116.4, 39.9],
        zoom: zoom ?? 11,
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        touchPitch: false,
        maxZoom: 19,
        scrollZoom: scrollZoom ?? true,
        locale: mapLocale(controls.current),
        fadeDuration: 150,
      });
    } catch (e) {
      setStatus('unavailable');
      setError(e instanceof Error ? e.message : String(e));
      return;
    }
    instance.touchZoomRotate.disableRotation();
    instance.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    instance.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    let loaded = false;
    instance.on('load', () => {
      loaded = true;
      setMap(instance);
      setStatus('ready');
    });
    instance.on('error', (event) => {
      // A tile that fails is not fatal; a style that never loads is.
      if (!loaded) {
        setStatus('failed');
        setError(event.error?.message ?? 'error');
      } else console.warn('map:', event.error?.message);
    });
    instance.on('webglcontextlost', () => setStatus('failed'));
    // `data-map-idle` tells tests (and screenshots) when the map has settled: no motion, every tile drawn.
    const idle = (value: boolean) => () => (container.dataset.mapIdle = String(value));
    instance.on('idle', idle(true));
    instance.on('movestart', idle(false));
    instance.on('dataloading', idle(false));
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(container);
    return () => {
      observer.disconnect();
      setMap(null);
      instance.remove();
    };
  }, []);

  return { containerRef, map, status, error };
}

/** The map area with its states: a spinner while the style loads, a clear message when there is no WebGL. */
export function MapFrame({
  handle,
  height,
  className,
  style,
  children,
  label,
}: {
  handle: MapLibreHandle;
  height: number | string;
  className?: string;
  style?: CSSProperties;
  children?: ReactNode;
  label?: string;
}) {
  const { t } = useTranslation('map');
  return (
    <div className={`map-frame ${className ?? ''}`} style={{ height, ...style }}>
      <div
        ref={handle.containerRef}
        className="map-canvas"
        role="region"
        aria-label={label ?? t('title')}
        data-testid="map-canvas"
        data-map-status={handle.status}
      />
      {handle.status === 'loading' && (
        <div className="map-overlay-center">
          <Spin tip={t('loadingMap')} size="large">
            <div style={{ width: 160, height: 60 }} />
          </Spin>
        </div>
      )}
      {(handle.status === 'unavailable' || handle.status === 'failed') && (
        <div className="map-overlay-center map-overlay-solid" role="alert" data-testid="map-unavailable">
          <Result
            status="warning"
            title={t('unavailable.title')}
            subTitle={
              handle.status === 'unavailable' && !handle.error
                ? t('unavailable.webgl')
                : t('unavailable.failed', { message: handle.error ?? 'WebGL' })
            }
          />
        </div>
      )}
      {handle.status === 'ready' && children}
    </div>
  );
}

/**
 * An HTML marker whose content React renders (through a portal, so it keeps the app's contexts: router, i18n,
 * theme). Moves when `lngLat` changes; removed on unmount.
 */
export function MapMarker({
  map,
  lngLat,
  children,
  anchor = 'center',
  draggable = false,
  onDragEnd,
  className,
  zIndex,
}: {
  map: maplibregl.Map;
  lngLat: LngLat;
  children: ReactNode;
  anchor?: maplibregl.MarkerOptions['anchor'];
  draggable?: boolean;
  onDragEnd?: (point: LngLat) => void;
  className?: string;
  zIndex?: number;
}) {
  const [element] = useState(() => document.createElement('div'));
  const marker = useRef<maplibregl.Marker | null>(null);
  const dragEnd = useRef(onDragEnd);
  dragEnd.current = onDragEnd;
  const [lng, lat] = lngLat;

  useEffect(() => {
    const m = new maplibregl.Marker({ element, anchor, draggable }).setLngLat([lng, lat]).addTo(map);
    m.on('dragend', () => {
      const p = m.getLngLat();
      dragEnd.current?.([p.lng, p.lat]);
    });
    marker.current = m;
    return () => {
      m.remove();
      marker.current = null;
    };
    // lng/lat changes are applied by the effect below, without recreating the marker
  }, [map, element, anchor, draggable]);

  useEffect(() => {
    marker.current?.setLngLat([lng, lat]);
  }, [lng, lat]);

  useEffect(() => {
    // MapLibre puts its own classes on the element (position, anchor): add ours beside them.
    const added = ['map-marker', ...(className ?? '').split(' ').filter(Boolean)];
    element.classList.add(...added);
    if (zIndex !== undefined) element.style.zIndex = String(zIndex);
    return () => element.classList.remove(...added);
  }, [element, className, zIndex]);

  return createPortal(children, element);
}

/** A popup at a point whose content React renders; closing it (×, click elsewhere) calls `onClose`. */
export function MapPopup({
  map,
  lngLat,
  children,
  onClose,
}: {
  map: maplibregl.Map;
  lngLat: LngLat;
  children: ReactNode;
  onClose: () => void;
}) {
  const [element] = useState(() => document.createElement('div'));
  const close = useRef(onClose);
  close.current = onClose;
  const [lng, lat] = lngLat;
  useEffect(() => {
    const popup = new maplibregl.Popup({
      closeButton: true,
      closeOnClick: true,
      maxWidth: '320px',
      offset: 12,
    })
      .setLngLat([lng, lat])
      .setDOMContent(element)
      .addTo(map);
    const onPopupClose = () => close.current();
    popup.on('close', onPopupClose);
    return () => {
      popup.off('close', onPopupClose);
      popup.remove();
    };
  }, [map, element, lng, lat]);
  return createPortal(children, element);
}

/** Keeps the grid name points (style option `gridLabels`) in step with the tiles in view. */
export function useGridLabels(map: maplibregl.Map | null): void {
  useEffect(() => {
    if (!map) return;
    let last = '';
    const update = () => {
      const source = map.getSource<maplibregl.GeoJSONSource>(gridLabelSource);
      if (!source || map.getZoom() < gridLabelMinZoom - 0.5) return;
      const points = gridLabelPoints(map);
      // setData makes the map busy and then idle again: only when the labels really moved
      const key = points.features
        .map(
          (f) => `${String(f.properties?.code)}@${f.geometry.coordinates.map((c) => c.toFixed(5)).join(',')}`,
        )
        .join(';');
      if (key === last) return;
      last = key;
      void source.setData(points);
    };
    update();
    map.on('moveend', update);
    map.on('idle', update);
    return () => {
      map.off('moveend', update);
      map.off('idle', update);
    };
  }, [map]);
}
