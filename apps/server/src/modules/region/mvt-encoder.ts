import Pbf from 'pbf';

/**
 * A small Mapbox Vector Tile 2.1 encoder for polygon and point layers, used where PostGIS cannot encode tiles itself
 * (PGlite's PostGIS is compiled without protobuf-c, so ST_AsMVT fails there). Geometry arrives already in
 * tile coordinates (integers, y down, 0…extent plus a buffer); this file only orders rings and writes the
 * protobuf. Spec: https://github.com/mapbox/vector-tile-spec/tree/master/2.1
 */

export type TileValue = string | number | boolean;

/** A polygon feature: polygons → rings → [x, y] in tile coordinates (GeoJSON MultiPolygon nesting). */
export interface TilePolygonFeature {
  id?: number;
  properties: Record<string, TileValue>;
  polygons: number[][][][];
}

/** A point feature: one or more [x, y] in tile coordinates (several make a MultiPoint). */
export interface TilePointFeature {
  id?: number;
  properties: Record<string, TileValue>;
  points: number[][];
}

export type TileFeature = TilePolygonFeature | TilePointFeature;

export interface TileLayer {
  name: string;
  /** Tile units per side; 4096 unless said otherwise. */
  extent?: number;
  features: TileFeature[];
}

// vector_tile.proto field numbers.
const tileLayers = 3;
const layerName = 1;
const layerFeatures = 2;
const layerKeys = 3;
const layerValues = 4;
const layerExtent = 5;
const layerVersion = 15;
const featureId = 1;
const featureTags = 2;
const featureType = 3;
const featureGeometry = 4;
const geomTypePoint = 1;
const geomTypePolygon = 3;

const commandMoveTo = 1;
const commandLineTo = 2;
const commandClosePath = 7;

const command = (id: number, count: number): number => (id & 0x7) | (count << 3);
const zigzag = (n: number): number => (n << 1) ^ (n >> 31);

/**
 * Twice the ring's area by the surveyor's formula in tile coordinates, as the spec defines it: positive for
 * an exterior ring (clockwise on screen, since y points down), negative for an interior ring.
 */
export function surveyorArea(ring: readonly (readonly number[])[]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
    sum += ring[j]![0]! * ring[i]![1]! - ring[i]![0]! * ring[j]![1]!;
  return sum;
}

/**
 * Integer vertices without repeats and without the closing vertex; null when the ring has collapsed
 * (fewer than 3 distinct vertices or no area), which the spec forbids encoding.
 */
function cleanRing(ring: readonly (readonly number[])[]): number[][] | null {
  const points: number[][] = [];
  for (const point of ring) {
    const x = Math.round(point[0]!);
    const y = Math.round(point[1]!);
    const last = points[points.length - 1];
    if (last && last[0] === x && last[1] === y) continue;
    points.push([x, y]);
  }
  while (
    points.length > 1 &&
    points[0]![0] === points[points.length - 1]![0] &&
    points[0]![1] === points[points.length - 1]![1]
  )
    points.pop();
  if (points.length < 3 || surveyorArea(points) === 0) return null;
  return points;
}

/** Command integers for one feature: exterior rings positive area, their holes negative, cursor carried over. */
export function polygonCommands(
  polygons: readonly (readonly (readonly (readonly number[])[])[])[],
): number[] {
  const out: number[] = [];
  let cursorX = 0;
  let cursorY = 0;
  for (const polygon of polygons) {
    let first = true;
    for (const rawRing of polygon) {
      const ring = cleanRing(rawRing);
      if (!ring) {
        if (first) break; // the shell collapsed: its holes mean nothing on their own
        continue;
      }
      const wantPositive = first;
      first = false;
      if (surveyorArea(ring) > 0 !== wantPositive) ring.reverse();
      out.push(command(commandMoveTo, 1), zigzag(ring[0]![0]! - cursorX), zigzag(ring[0]![1]! - cursorY));
      cursorX = ring[0]![0]!;
      cursorY = ring[0]![1]!;
      out.push(command(commandLineTo, ring.length - 1));
      for (let i = 1; i < ring.length; i++) {
        out.push(zigzag(ring[i]![0]! - cursorX), zigzag(ring[i]![1]! - cursorY));
        cursorX = ring[i]![0]!;
        cursorY = ring[i]![1]!;
      }
      out.push(command(commandClosePath, 1));
    }
  }
  return out;
}

/** Command integers for a point or multipoint: one MoveTo with every point, each relative to the previous. */
export function pointCommands(points: readonly (readonly number[])[]): number[] {
  if (points.length === 0) return [];
  const out = [command(commandMoveTo, points.length)];
  let cursorX = 0;
  let cursorY = 0;
  for (const point of points) {
    const x = Math.round(point[0]!);
    const y = Math.round(point[1]!);
    out.push(zigzag(x - cursorX), zigzag(y - cursorY));
    cursorX = x;
    cursorY = y;
  }
  return out;
}

interface EncodedFeature {
  id: number | undefined;
  type: number;
  tags: number[];
  geometry: number[];
}

interface EncodedLayer {
  name: string;
  extent: number;
  keys: string[];
  values: TileValue[];
  features: EncodedFeature[];
}

function prepareLayer(layer: TileLayer): EncodedLayer {
  const keys: string[] = [];
  const keyIndex = new Map<string, number>();
  const values: TileValue[] = [];
  const valueIndex = new Map<string, number>();
  const features: EncodedFeature[] = [];
  for (const feature of layer.features) {
    const isPoint = 'points' in feature;
    const geometry = isPoint ? pointCommands(feature.points) : polygonCommands(feature.polygons);
    if (geometry.length === 0) continue; // everything collapsed at this zoom
    const tags: number[] = [];
    for (const [key, value] of Object.entries(feature.properties)) {
      let k = keyIndex.get(key);
      if (k === undefined) {
        k = keys.push(key) - 1;
        keyIndex.set(key, k);
      }
      const valueKey = `${typeof value}:${String(value)}`;
      let v = valueIndex.get(valueKey);
      if (v === undefined) {
        v = values.push(value) - 1;
        valueIndex.set(valueKey, v);
      }
      tags.push(k, v);
    }
    features.push({ id: feature.id, type: isPoint ? geomTypePoint : geomTypePolygon, tags, geometry });
  }
  return { name: layer.name, extent: layer.extent ?? 4096, keys, values, features };
}

function writeValue(value: TileValue, pbf: Pbf): void {
  if (typeof value === 'string') pbf.writeStringField(1, value);
  else if (typeof value === 'boolean') pbf.writeBooleanField(7, value);
  else if (Number.isInteger(value) && value >= 0) pbf.writeVarintField(5, value);
  else if (Number.isInteger(value)) pbf.writeSVarintField(6, value);
  else pbf.writeDoubleField(3, value);
}

function writeFeature(feature: EncodedFeature, pbf: Pbf): void {
  if (feature.id !== undefined) pbf.writeVarintField(featureId, feature.id);
  pbf.writePackedVarint(featureTags, feature.tags);
  pbf.writeVarintField(featureType, feature.type);
  pbf.writePackedVarint(featureGeometry, feature.geometry);
}

function writeLayer(layer: EncodedLayer, pbf: Pbf): void {
  pbf.writeVarintField(layerVersion, 2);
  pbf.writeStringField(layerName, layer.name);
  for (const feature of layer.features) pbf.writeMessage(layerFeatures, writeFeature, feature);
  for (const key of layer.keys) pbf.writeStringField(layerKeys, key);
  for (const value of layer.values) pbf.writeMessage(layerValues, writeValue, value);
  pbf.writeVarintField(layerExtent, layer.extent);
}

/** Encodes polygon and point layers as one tile. Layers left with no features are omitted, as ST_AsMVT does. */
export function encodeTile(layers: readonly TileLayer[]): Uint8Array {
  const pbf = new Pbf();
  for (const layer of layers) {
    const prepared = prepareLayer(layer);
    if (prepared.features.length > 0) pbf.writeMessage(tileLayers, writeLayer, prepared);
  }
  return pbf.finish();
}
