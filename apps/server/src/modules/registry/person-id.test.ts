import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  birthDateOf,
  checkCharOf,
  maskIdNumber,
  maskPhoneNumber,
  normalisePhone,
  residentIdProblem,
} from './person-id.ts';

const today = '2026-11-20';

/** A valid resident ID number from its parts. */
function makeId(area: string, birth: string, sequence: number): string {
  const first17 = `${area}${birth.replace(/-/g, '')}${String(sequence).padStart(3, '0')}`;
  return `${first17}${checkCharOf(first17)}`;
}

const areaArb = fc.integer({ min: 110000, max: 659999 }).map(String);
const birthArb = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2026-11-19T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const sequenceArb = fc.integer({ min: 0, max: 999 });

describe('GB 11643 resident ID numbers', () => {
  it('knows the published example', () => {
    expect(residentIdProblem('11010519491231002X', { today })).toBeNull();
    expect(residentIdProblem('11010519491231002x', { today })).toBeNull();
    expect(birthDateOf('11010519491231002X')).toBe('1949-12-31');
    expect(residentIdProblem('110105194912310021', { today })).toBe('check_digit');
  });

  it('accepts every number built with its check character, and its birth date', () => {
    fc.assert(
      fc.property(areaArb, birthArb, sequenceArb, (area, birth, sequence) => {
        const id = makeId(area, birth, sequence);
        expect(residentIdProblem(id, { today, birthDate: birth })).toBeNull();
        expect(birthDateOf(id)).toBe(birth);
      }),
    );
  });

  it('rejects any single changed digit or check character (MOD 11-2 catches it)', () => {
    fc.assert(
      fc.property(
        areaArb,
        birthArb,
        sequenceArb,
        fc.integer({ min: 0, max: 17 }),
        fc.integer({ min: 1, max: 10 }),
        (area, birth, sequence, position, delta) => {
          const id = makeId(area, birth, sequence);
          const alphabet = position === 17 ? '0123456789X' : '0123456789';
          const current = alphabet.indexOf(id[position]!);
          const replacement = alphabet[(current + delta) % alphabet.length]!;
          fc.pre(replacement !== id[position]);
          const changed = `${id.slice(0, position)}${replacement}${id.slice(position + 1)}`;
          expect(residentIdProblem(changed, { today })).not.toBeNull();
        },
      ),
    );
  });

  it('rejects impossible or future birth dates even with a right check character, and a mismatch', () => {
    expect(residentIdProblem(makeId('230803', '2026-11-21', 1), { today })).toBe('birth_date');
    const feb30 = '23080319900230001';
    expect(residentIdProblem(`${feb30}${checkCharOf(feb30)}`, { today })).toBe('birth_date');
    expect(residentIdProblem(makeId('230803', '1899-12-31', 1), { today })).toBe('birth_date');
    expect(residentIdProblem(makeId('230803', '1990-01-02', 1), { today, birthDate: '1990-01-03' })).toBe(
      'birth_date_mismatch',
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        fc.pre(!/^\d{17}[\dXx]$/.test(text));
        expect(residentIdProblem(text, { today })).toBe('format');
      }),
    );
  });
});

describe('masks and phones', () => {
  it('masks an ID number to its area code and last four', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
  });

  it('masks a phone to its first three and last four', () => {
    expect(maskPhoneNumber('13812345678')).toBe('138****5678');
  });

  it('normalises mobiles and landlines, refuses the rest', () => {
    expect(normalisePhone('+86 138 1234 5678')).toBe('13812345678');
    expect(normalisePhone('0454-8234567')).toBe('0454-8234567');
    expect(normalisePhone('12812345678')).toBeNull();
    expect(normalisePhone('12345')).toBeNull();
  });
});
