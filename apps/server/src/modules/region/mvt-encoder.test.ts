import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';
import { describe, expect, it } from 'vitest';
import { encodeTile, pointCommands, polygonCommands, surveyorArea } from './mvt-encoder.ts';

const decode = (bytes: Uint8Array) => new VectorTile(new Pbf(bytes));

// Counter-clockwise on screen (negative surveyor area) on purpose: the encoder must flip the shell.
const shellWrongWay = [
  [0, 0],
  [0, 100],
  [100, 100],
  [100, 0],
  [0, 0],
];
const holeWrongWay = [
  [25, 25],
  [75, 25],
  [75, 75],
  [25, 75],
  [25, 25],
];

describe('MVT 2.1 polygon encoding', () => {
  it('writes the spec example as the spec does (MoveTo, LineTo ×2, ClosePath, zigzag deltas)', () => {
    // vector-tile-spec 2.1, section 4.3.5.3: [9, 6, 12, 18, 10, 12, 24, 44, 15].
    expect(
      polygonCommands([
        [
          [
            [3, 6],
            [8, 12],
            [20, 34],
            [3, 6],
          ],
        ],
      ]),
    ).toEqual([9, 6, 12, 18, 10, 12, 24, 44, 15]);
  });

  it('winds shells positive and holes negative by the surveyor formula, whatever the input order', () => {
    const tile = decode(
      encodeTile([
        {
          name: 'grids',
          features: [{ properties: { code: 'x' }, polygons: [[shellWrongWay, holeWrongWay]] }],
        },
      ]),
    );
    const rings = tile.layers
      .grids!.feature(0)
      .loadGeometry()
      .map((ring) => ring.map((p) => [p.x, p.y]));
    expect(rings).toHaveLength(2);
    expect(surveyorArea(rings[0]!)).toBeGreaterThan(0);
    expect(surveyorArea(rings[1]!)).toBeLessThan(0);
    // A decoder reads one polygon with one hole, not two polygons.
    const geojson = tile.layers.grids!.feature(0).toGeoJSON(0, 0, 0);
    expect(geojson.geometry.type).toBe('Polygon');
    expect((geojson.geometry as { coordinates: unknown[] }).coordinates).toHaveLength(2);
  });

  it('keeps several polygons of one feature apart, carrying the cursor between rings', () => {
    const second = shellWrongWay.map(([x, y]) => [x! + 200, y! + 200]);
    const feature = decode(
      encodeTile([{ name: 'grids', features: [{ properties: {}, polygons: [[shellWrongWay], [second]] }] }]),
    ).layers.grids!.feature(0);
    const geojson = feature.toGeoJSON(0, 0, 0);
    expect(geojson.geometry.type).toBe('MultiPolygon');
    expect(feature.bbox()).toEqual([0, 0, 300, 300]);
  });

  it('drops degenerate rings (collapsed shells take their holes with them) and features left empty', () => {
    const sliver = [
      [0, 0],
      [10, 0],
      [20, 0],
      [0, 0],
    ];
    const point = [
      [5, 5],
      [5, 5],
      [5, 5],
      [5, 5],
    ];
    const commands = polygonCommands([
      [sliver, holeWrongWay],
      [shellWrongWay, point],
    ]);
    // One ring of 4 vertices survives: MoveTo(1) + 2, LineTo(3) + 6, ClosePath.
    expect(commands).toHaveLength(1 + 2 + 1 + 6 + 1);
    const tile = decode(
      encodeTile([
        { name: 'grids', features: [{ properties: { code: 'gone' }, polygons: [[sliver]] }] },
        { name: 'regions', features: [{ properties: { code: 'kept' }, polygons: [[shellWrongWay]] }] },
      ]),
    );
    expect(Object.keys(tile.layers)).toEqual(['regions']);
    expect(encodeTile([{ name: 'grids', features: [] }])).toHaveLength(0);
  });

  it('shares keys and values between features and keeps their types', () => {
    const layer = decode(
      encodeTile([
        {
          name: 'grids',
          extent: 4096,
          features: [
            {
              id: 7,
              properties: { code: 'a', level: 'grid', rank: 3, share: 0.5, active: true },
              polygons: [[shellWrongWay]],
            },
            { properties: { code: 'b', level: 'grid', rank: -2 }, polygons: [[shellWrongWay]] },
          ],
        },
      ]),
    ).layers.grids!;
    expect(layer.version).toBe(2);
    expect(layer.extent).toBe(4096);
    expect(layer.length).toBe(2);
    expect(layer.feature(0).id).toBe(7);
    expect(layer.feature(0).properties).toEqual({
      code: 'a',
      level: 'grid',
      rank: 3,
      share: 0.5,
      active: true,
    });
    expect(layer.feature(1).properties).toEqual({ code: 'b', level: 'grid', rank: -2 });
    expect(layer.feature(0).type).toBe(3);
  });
});

describe('MVT 2.1 point encoding', () => {
  it('writes the spec examples (a point; a multipoint with relative moves)', () => {
    // vector-tile-spec 2.1, 4.3.5.1 and 4.3.5.2.
    expect(pointCommands([[25, 17]])).toEqual([9, 50, 34]);
    expect(
      pointCommands([
        [5, 7],
        [3, 2],
      ]),
    ).toEqual([17, 10, 14, 3, 9]);
    expect(pointCommands([])).toEqual([]);
  });

  it('round-trips point features with their properties beside a polygon layer', () => {
    const bytes = encodeTile([
      {
        name: 'cases',
        features: [
          { id: 7, properties: { serial: 'A-1', urgent: true, count: 3 }, points: [[100, 4000]] },
          { properties: { serial: 'A-2', urgent: false, count: 1 }, points: [[0, 0]] },
          { properties: { serial: 'none' }, points: [] },
        ],
      },
      { name: 'grids', features: [{ properties: { code: 'g' }, polygons: [[shellWrongWay]] }] },
    ]);
    const tile = decode(bytes);
    const layer = tile.layers.cases!;
    expect(layer.length).toBe(2); // the feature without a point is dropped
    const first = layer.feature(0);
    expect(first.type).toBe(1);
    expect(first.id).toBe(7);
    expect(first.properties).toEqual({ serial: 'A-1', urgent: true, count: 3 });
    expect(first.loadGeometry()).toEqual([[{ x: 100, y: 4000 }]]);
    expect(layer.feature(1).loadGeometry()).toEqual([[{ x: 0, y: 0 }]]);
    expect(tile.layers.grids!.feature(0).type).toBe(3);
  });
});
