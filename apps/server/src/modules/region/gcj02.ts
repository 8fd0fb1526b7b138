/**
 * WGS-84 ⇄ GCJ-02 (火星坐标, the obfuscated datum that Chinese phone map SDKs such as Amap and Tencent report).
 *
 * GCJ-02 adds a smooth, deterministic offset of a few hundred metres inside China and nothing outside it.
 * The forward formula is the publicly known one (Krasovsky 1940 ellipsoid constants); the inverse has no
 * closed form, so it is solved by fixed-point iteration to well under a centimetre.
 *
 * CGCS2000 (国家大地坐标系 2000) differs from WGS-84 by centimetres: it is treated as WGS-84.
 */

/** Coordinate reference systems a client may send a point in. Everything is stored in WGS-84. */
export const inputCrsValues = ['wgs84', 'cgcs2000', 'gcj02'] as const;
export type InputCrs = (typeof inputCrsValues)[number];

/** [longitude, latitude] in degrees, GeoJSON order. */
export type LngLat = [number, number];

// Krasovsky 1940 semi-major axis and first eccentricity squared, as used by the GCJ-02 formula.
const semiMajorAxis = 6378245.0;
const eccentricitySquared = 0.006693421622965943;

/**
 * The rough bounding box of China that every common implementation uses: outside it no offset is applied.
 * (It is a box, so it also covers neighbours near the border; that is how the phone SDKs behave too.)
 */
export function outOfChina(lng: number, lat: number): boolean {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function latitudeOffset(x: number, y: number): number {
  let result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  result += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  result += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  result += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return result;
}

function longitudeOffset(x: number, y: number): number {
  let result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  result += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  result += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  result += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return result;
}

/** The GCJ-02 offset (degrees) at a WGS-84 point inside China. */
function offsetAt(lng: number, lat: number): LngLat {
  const x = lng - 105.0;
  const y = lat - 35.0;
  const radLat = (lat / 180.0) * Math.PI;
  const sinLat = Math.sin(radLat);
  const magic = 1 - eccentricitySquared * sinLat * sinLat;
  const sqrtMagic = Math.sqrt(magic);
  const dLat =
    (latitudeOffset(x, y) * 180.0) /
    (((semiMajorAxis * (1 - eccentricitySquared)) / (magic * sqrtMagic)) * Math.PI);
  const dLng = (longitudeOffset(x, y) * 180.0) / ((semiMajorAxis / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [dLng, dLat];
}

/** WGS-84 → GCJ-02. Points outside China come back unchanged. */
export function wgs84ToGcj02(lng: number, lat: number): LngLat {
  if (outOfChina(lng, lat)) return [lng, lat];
  const [dLng, dLat] = offsetAt(lng, lat);
  return [lng + dLng, lat + dLat];
}

/** 1e-9 degree is about 0.1 mm: far below the centimetre the inverse promises. */
const inverseTolerance = 1e-9;
const inverseMaxSteps = 30;

/**
 * GCJ-02 → WGS-84 by fixed-point iteration: start at the GCJ-02 point, move by the residual of the forward
 * transform until it is below 1e-9° (~0.1 mm). The offset changes slowly with position, so this converges
 * in a handful of steps. Points outside China come back unchanged.
 */
export function gcj02ToWgs84(lng: number, lat: number): LngLat {
  if (outOfChina(lng, lat)) return [lng, lat];
  let wgsLng = lng;
  let wgsLat = lat;
  for (let step = 0; step < inverseMaxSteps; step++) {
    const [gcjLng, gcjLat] = wgs84ToGcj02(wgsLng, wgsLat);
    const errorLng = gcjLng - lng;
    const errorLat = gcjLat - lat;
    wgsLng -= errorLng;
    wgsLat -= errorLat;
    if (Math.abs(errorLng) < inverseTolerance && Math.abs(errorLat) < inverseTolerance) break;
  }
  return [wgsLng, wgsLat];
}

/** A point given in any accepted CRS, in WGS-84 (the stored datum). */
export function toWgs84(crs: InputCrs, lng: number, lat: number): LngLat {
  switch (crs) {
    case 'wgs84':
    case 'cgcs2000':
      return [lng, lat];
    case 'gcj02':
      return gcj02ToWgs84(lng, lat);
  }
}

const earthRadiusMetres = 6371008.8;

/** Great-circle distance in metres (haversine): used to state tolerances in metres. */
export function distanceMetres(a: LngLat, b: LngLat): number {
  const toRad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * toRad;
  const dLng = (b[0] - a[0]) * toRad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * toRad) * Math.cos(b[1] * toRad) * Math.sin(dLng / 2) ** 2;
  return 2 * earthRadiusMetres * Math.asin(Math.min(1, Math.sqrt(h)));
}
