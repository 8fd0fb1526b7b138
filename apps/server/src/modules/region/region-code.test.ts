import { describe, expect, it } from 'vitest';
import {
  impliedParentCode,
  levelRank,
  provincePrefixes,
  regionCodeProblems,
  type RegionCodeInput,
} from './region-code.ts';
import type { RegionLevel } from './region.queries.ts';

const parent = (code: string, level: RegionLevel) => ({ code, level });

describe('region codes (GB/T 2260 + grid coding)', () => {
  it('knows exactly the GB/T 2260 province prefixes', () => {
    expect([...provincePrefixes].sort()).toEqual(
      '11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82'.split(
        ' ',
      ),
    );
  });

  const valid: [string, RegionCodeInput][] = [
    ['city', { code: '230800', level: 'city', parent: null }],
    ['city in 82 (澳门)', { code: '820100', level: 'city', parent: null }],
    ['district', { code: '230803', level: 'district', parent: parent('230800', 'city') }],
    ['street', { code: '230803001', level: 'street', parent: parent('230803', 'district') }],
    ['community', { code: '230803001002', level: 'community', parent: parent('230803001', 'street') }],
    [
      'grid (15 digits)',
      { code: '230803001002003', level: 'grid', parent: parent('230803001002', 'community') },
    ],
    [
      'micro-grid (18 digits)',
      { code: '230803001002003999', level: 'microgrid', parent: parent('230803001002003', 'grid') },
    ],
  ];
  it.each(valid)('accepts a valid %s code', (_what, input) => {
    expect(regionCodeProblems(input)).toEqual([]);
  });

  const invalid: [string, RegionCodeInput, string, RegExp][] = [
    ['unknown province 10', { code: '100100', level: 'city', parent: null }, 'code', /province prefix 10/],
    ['unknown province 24', { code: '240100', level: 'city', parent: null }, 'code', /province prefix 24/],
    ['unknown province 72', { code: '720100', level: 'city', parent: null }, 'code', /province prefix 72/],
    ['city part 00', { code: '230000', level: 'city', parent: null }, 'code', /city part must not be 00/],
    ['city not ending 00', { code: '230803', level: 'city', parent: null }, 'code', /ends in 00/],
    ['city with 5 digits', { code: '23080', level: 'city', parent: null }, 'code', /6 digits/],
    [
      'city with a parent',
      { code: '230800', level: 'city', parent: parent('230000', 'city') },
      'parent',
      /no parent/,
    ],
    [
      'district ending 00',
      { code: '230800', level: 'district', parent: parent('230800', 'city') },
      'code',
      /must not end in 00/,
    ],
    [
      'district of another city',
      { code: '230903', level: 'district', parent: parent('230800', 'city') },
      'code',
      /first 4 digits/,
    ],
    [
      'district without parent',
      { code: '230803', level: 'district', parent: null },
      'parent',
      /parent required/,
    ],
    [
      'street with 6 digits',
      { code: '230803', level: 'street', parent: parent('230803', 'district') },
      'code',
      /9 digits/,
    ],
    [
      'street 000',
      { code: '230803000', level: 'street', parent: parent('230803', 'district') },
      'code',
      /000/,
    ],
    [
      'street of another district',
      { code: '230804001', level: 'street', parent: parent('230803', 'district') },
      'code',
      /parent code \+ 3 digits/,
    ],
    [
      'community under a district',
      { code: '230803001001', level: 'community', parent: parent('230803', 'district') },
      'level',
      /level/,
    ],
    [
      'community 000',
      { code: '230803001000', level: 'community', parent: parent('230803001', 'street') },
      'code',
      /000/,
    ],
    [
      'grid with 12 digits',
      { code: '230803001001', level: 'grid', parent: parent('230803001001', 'community') },
      'code',
      /15 digits/,
    ],
    [
      'grid of another community',
      { code: '230803001002001', level: 'grid', parent: parent('230803001001', 'community') },
      'code',
      /parent code/,
    ],
    [
      'grid under a street',
      { code: '230803001001001', level: 'grid', parent: parent('230803001', 'street') },
      'level',
      /level/,
    ],
    [
      'micro-grid 000',
      { code: '230803001001001000', level: 'microgrid', parent: parent('230803001001001', 'grid') },
      'code',
      /000/,
    ],
    [
      'micro-grid under a community',
      { code: '230803001001001001', level: 'microgrid', parent: parent('230803001001', 'community') },
      'level',
      /level/,
    ],
    ['letters', { code: '23080A', level: 'city', parent: null }, 'code', /6 digits/],
  ];
  it.each(invalid)('refuses %s', (_what, input, field, message) => {
    const problems = regionCodeProblems(input);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.field)).toContain(field);
    expect(problems.map((p) => p.message).join(' | ')).toMatch(message);
  });

  it('derives the implied parent and orders levels parents first', () => {
    expect(impliedParentCode('district', '230803')).toBe('230800');
    expect(impliedParentCode('grid', '230803001002003')).toBe('230803001002');
    expect(impliedParentCode('city', '230800')).toBeNull();
    expect(
      ['grid', 'city', 'microgrid', 'street'].sort(
        (a, b) => levelRank(a as RegionLevel) - levelRank(b as RegionLevel),
      ),
    ).toEqual(['city', 'street', 'grid', 'microgrid']);
  });
});
