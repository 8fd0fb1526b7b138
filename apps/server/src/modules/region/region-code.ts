import type { FieldError } from '../../platform/errors.ts';
import type { RegionLevel } from './region.queries.ts';

/**
 * Region codes (区划代码). Cities and districts carry GB/T 2260 administrative codes (6 digits); below them each
 * level appends a 3-digit sequence (street 街道 / community 社区 per GB/T 10114, grid and micro-grid sequences as in
 * Beijing DB11/T: a grid code has 15 digits, a micro-grid 18). A sequence is never 000.
 */

/** GB/T 2260 province prefixes: 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71 (台湾), 81 (香港), 82 (澳门). */
export const provincePrefixes: ReadonlySet<string> = new Set(
  [
    [11, 15],
    [21, 23],
    [31, 37],
    [41, 46],
    [50, 54],
    [61, 65],
    [71, 71],
    [81, 82],
  ].flatMap(([from, to]) => Array.from({ length: to! - from! + 1 }, (_, i) => String(from! + i))),
);

export const regionLevels: readonly RegionLevel[] = [
  'city',
  'district',
  'street',
  'community',
  'grid',
  'microgrid',
];

/** The level a region's parent must have (null: a city has no parent). */
export const parentLevelOf: Record<RegionLevel, RegionLevel | null> = {
  city: null,
  district: 'city',
  street: 'district',
  community: 'street',
  grid: 'community',
  microgrid: 'grid',
};

export const codeLengthOf: Record<RegionLevel, number> = {
  city: 6,
  district: 6,
  street: 9,
  community: 12,
  grid: 15,
  microgrid: 18,
};

const levelNames: Record<RegionLevel, string> = {
  city: '市 (city)',
  district: '区/县 (district)',
  street: '街道/乡镇 (street)',
  community: '社区/村 (community)',
  grid: '网格 (grid)',
  microgrid: '微网格 (micro-grid)',
};

/** Depth of a level, city = 0: sorts parents before children. */
export function levelRank(level: RegionLevel): number {
  return regionLevels.indexOf(level);
}

/** The parent code a region code implies (a district's city is its first 4 digits + 00), or null for a city. */
export function impliedParentCode(level: RegionLevel, code: string): string | null {
  switch (level) {
    case 'city':
      return null;
    case 'district':
      return `${code.slice(0, 4)}00`;
    case 'street':
    case 'community':
    case 'grid':
    case 'microgrid':
      return code.slice(0, -3);
  }
}

export interface RegionCodeInput {
  code: string;
  level: RegionLevel;
  /** The parent region (code and level), or null when none is given. */
  parent: { code: string; level: RegionLevel } | null;
}

/**
 * Checks a code against its level and parent. Returns field errors (`code`, `level`, `parent`), empty when valid.
 * Pure: the caller looks the parent up.
 */
export function regionCodeProblems(input: RegionCodeInput): FieldError[] {
  const { code, level, parent } = input;
  const problems: FieldError[] = [];
  const length = codeLengthOf[level];
  if (!new RegExp(`^\\d{${length}}$`).test(code)) {
    problems.push({
      field: 'code',
      message: `${levelNames[level]}代码应为 ${length} 位数字 (must be ${length} digits)`,
    });
    return problems;
  }
  if (!provincePrefixes.has(code.slice(0, 2)))
    problems.push({
      field: 'code',
      message: `省级代码 ${code.slice(0, 2)} 不在 GB/T 2260 中 (unknown province prefix ${code.slice(0, 2)})`,
    });
  if (level === 'city') {
    if (code.slice(2, 4) === '00')
      problems.push({ field: 'code', message: '市级代码第 3–4 位不能为 00 (city part must not be 00)' });
    if (code.slice(4) !== '00')
      problems.push({ field: 'code', message: '市级代码应以 00 结尾 (a city code ends in 00)' });
  } else if (level === 'district') {
    if (code.slice(4) === '00')
      problems.push({
        field: 'code',
        message: '区县代码不能以 00 结尾 (a district code must not end in 00)',
      });
  } else if (code.slice(-3) === '000') {
    problems.push({
      field: 'code',
      message: `${levelNames[level]}序号不能为 000 (sequence must not be 000)`,
    });
  }

  const wantParentLevel = parentLevelOf[level];
  if (wantParentLevel === null) {
    if (parent) problems.push({ field: 'parent', message: '市级区域没有上级 (a city has no parent)' });
    return problems;
  }
  if (!parent) {
    problems.push({ field: 'parent', message: `${levelNames[level]}需要上级区域 (parent required)` });
    return problems;
  }
  if (parent.level !== wantParentLevel) {
    problems.push({
      field: 'level',
      message: `${levelNames[level]}的上级应为${levelNames[wantParentLevel]},而 ${parent.code} 是${levelNames[parent.level]} (level does not match the parent's level)`,
    });
    return problems;
  }
  const implied = impliedParentCode(level, code);
  if (implied !== parent.code) {
    const rule =
      level === 'district'
        ? `区县代码前 4 位应与上级市 ${parent.code} 相同 (district code must share the city's first 4 digits)`
        : `${levelNames[level]}代码应为上级代码 ${parent.code} 加 3 位序号 (code must be the parent code + 3 digits)`;
    problems.push({ field: 'code', message: rule });
  }
  return problems;
}
