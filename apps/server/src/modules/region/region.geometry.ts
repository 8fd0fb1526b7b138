import type { AreaGeometry } from './region.store.ts';

/**
 * Shape checks on a GeoJSON boundary before PostGIS sees it (PostGIS then checks validity: self-intersections,
 * overlapping parts…). Coordinates are WGS-84 [longitude, latitude]; an altitude is allowed and dropped.
 * Returns a reason (Chinese, then English) or null.
 */
export function areaGeometryProblem(geometry: AreaGeometry): string | null {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  if (!Array.isArray(polygons) || polygons.length === 0) return '没有任何多边形 (no polygon)';
  for (const [p, polygon] of polygons.entries()) {
    const where = geometry.type === 'Polygon' ? '' : `polygon ${p}, `;
    if (!Array.isArray(polygon) || polygon.length === 0) return `多边形没有环 (${where}no ring)`;
    for (const [r, ring] of polygon.entries()) {
      const at = `${where}ring ${r}`;
      if (!Array.isArray(ring) || ring.length < 4)
        return `环至少需要 4 个点 (${at}: a ring needs at least 4 positions)`;
      for (const [i, position] of ring.entries()) {
        if (!Array.isArray(position) || position.length < 2 || position.length > 3)
          return `坐标格式错误 (${at}, position ${i}: expected [lng, lat])`;
        const [lng, lat] = position as [number, number];
        if (!Number.isFinite(lng) || !Number.isFinite(lat))
          return `坐标不是有限数值 (${at}, position ${i}: not a finite number)`;
        if (lng < -180 || lng > 180 || lat < -90 || lat > 90)
          return `坐标超出 WGS-84 经纬度范围 (${at}, position ${i}: [${lng}, ${lat}] is not WGS-84 longitude/latitude)`;
      }
      const first = ring[0]!;
      const last = ring[ring.length - 1]!;
      if (first[0] !== last[0] || first[1] !== last[1]) return `环未闭合 (${at} is not closed)`;
    }
  }
  return null;
}

/** The same geometry with positions cut to [lng, lat] (the boundary column is 2-D). */
export function planarGeometry(geometry: AreaGeometry): AreaGeometry {
  const ring = (positions: number[][]) => positions.map((position) => [position[0]!, position[1]!]);
  if (geometry.type === 'Polygon') return { type: 'Polygon', coordinates: geometry.coordinates.map(ring) };
  return { type: 'MultiPolygon', coordinates: geometry.coordinates.map((polygon) => polygon.map(ring)) };
}
