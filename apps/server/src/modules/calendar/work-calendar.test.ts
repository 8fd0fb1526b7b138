import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultHolidaysFile } from './calendar.service.ts';
import {
  addHours,
  chinaDateOf,
  endOfChinaDay,
  noticeDays,
  WorkCalendar,
  type HolidayNotice,
} from './work-calendar.ts';

const file = JSON.parse(fs.readFileSync(defaultHolidaysFile, 'utf8')) as {
  years: Record<string, HolidayNotice>;
};
const calendar = new WorkCalendar(
  Object.keys(file.years).map(Number),
  Object.values(file.years).flatMap(noticeDays),
);

/** Noon China time on a local date. */
const noon = (date: string) => new Date(`${date}T12:00:00+08:00`);
const end = (date: string) => new Date(`${date}T23:59:59.999+08:00`);

describe('WorkCalendar', () => {
  it('a 3-working-day limit set on Wednesday 2026-09-30 falls due at the end of Saturday 2026-10-10', () => {
    // 国庆 1–7 October are holidays; Thursday 8 and Friday 9 count; Saturday 10 is a make-up workday (调休上班).
    const result = calendar.addWorkingDays(noon('2026-09-30'), 3);
    expect(result.dueAt.toISOString()).toBe('2026-10-10T15:59:59.999Z');
    expect(result.beyondCalendar).toBe(false);
  });

  it.each([
    // [from (local date), working days, due (local date), why]
    ['2026-09-30', 1, '2026-10-08', 'National Day holiday skipped'],
    ['2026-10-09', 1, '2026-10-10', 'make-up Saturday counts'],
    ['2026-10-10', 1, '2026-10-12', 'Sunday after the make-up day does not'],
    ['2026-09-18', 1, '2026-09-20', 'make-up Sunday before the Mid-Autumn break'],
    ['2026-09-24', 1, '2026-09-28', 'Mid-Autumn 25–27 September skipped'],
    // Spring Festival 2026: 15–23 February off, make-up Saturdays 14 and 28 February
    ['2026-02-13', 1, '2026-02-14', 'make-up Saturday before Spring Festival'],
    ['2026-02-13', 2, '2026-02-24', 'the nine days of Spring Festival skipped'],
    ['2026-02-12', 3, '2026-02-24', 'Friday, make-up Saturday, then after the festival'],
    ['2026-02-27', 1, '2026-02-28', 'make-up Saturday after Spring Festival'],
    ['2026-02-14', 5, '2026-02-28', 'across the festival to the make-up Saturday'],
    ['2026-02-14', 6, '2026-03-02', 'then past the weekend'],
    // New Year: 2026-01-01..03 off, Sunday 4 January is a make-up workday; 2025-01-01 off
    ['2025-12-31', 1, '2026-01-04', 'New Year 2026 skipped, make-up Sunday counts'],
    ['2025-12-30', 2, '2026-01-04', 'into the new year'],
    ['2024-12-31', 1, '2025-01-02', 'New Year 2025 skipped'],
    ['2025-12-31', 0, '2025-12-31', 'zero days: the end of the same day'],
  ])('from %s plus %i working days is due on %s (%s)', (from, days, due) => {
    const result = calendar.addWorkingDays(noon(from), days);
    expect(result.dueAt.toISOString()).toBe(end(due).toISOString());
    expect(result.beyondCalendar).toBe(false);
  });

  it('counts China local dates, not UTC ones', () => {
    // 2026-10-09T16:30Z is already Saturday 10 October 00:30 in China: the count starts on Sunday 11.
    expect(calendar.addWorkingDays(new Date('2026-10-09T16:30:00Z'), 1).dueAt.toISOString()).toBe(
      end('2026-10-12').toISOString(),
    );
    expect(calendar.addWorkingDays(new Date('2026-10-09T15:30:00Z'), 1).dueAt.toISOString()).toBe(
      end('2026-10-10').toISOString(),
    );
    expect(chinaDateOf(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01');
    expect(endOfChinaDay('2026-10-10').toISOString()).toBe('2026-10-10T15:59:59.999Z');
  });

  it('marks deadlines that run past the last loaded year (2027: weekends only)', () => {
    expect(calendar.lastKnownYear).toBe(2026);
    // Thursday 31 December 2026, then Friday 1 January 2027 counts (no notice for 2027 yet), then Monday 4.
    const into2027 = calendar.addWorkingDays(noon('2026-12-30'), 3);
    expect(into2027.dueAt.toISOString()).toBe(end('2027-01-04').toISOString());
    expect(into2027.beyondCalendar).toBe(true);
    expect(calendar.addWorkingDays(noon('2026-12-29'), 2)).toEqual({
      dueAt: end('2026-12-31'),
      beyondCalendar: false,
    });
    // Once 2027 is loaded, New Year's Day is a holiday and the warning goes.
    const with2027 = new WorkCalendar([2025, 2026, 2027], [{ day: '2027-01-01', kind: 'holiday' }]);
    expect(with2027.addWorkingDays(noon('2026-12-30'), 3)).toEqual({
      dueAt: end('2027-01-05'),
      beyondCalendar: false,
    });
    expect(new WorkCalendar([], []).addWorkingDays(noon('2026-12-29'), 1).beyondCalendar).toBe(true);
  });

  it('knows working days', () => {
    expect(calendar.isWorkingDay('2026-10-10')).toBe(true); // make-up Saturday
    expect(calendar.isWorkingDay('2026-10-01')).toBe(false); // National Day
    expect(calendar.isWorkingDay('2026-10-11')).toBe(false); // Sunday
    expect(calendar.isWorkingDay('2026-10-12')).toBe(true); // Monday
    expect(calendar.isWorkingDay('2026-02-23')).toBe(false); // Monday in Spring Festival
  });

  it('adds clock hours for accept limits', () => {
    const from = new Date('2026-10-01T02:00:00Z');
    expect(addHours(from, 0.5).toISOString()).toBe('2026-10-01T02:30:00.000Z');
    expect(addHours(from, 8).toISOString()).toBe('2026-10-01T10:00:00.000Z');
  });
});
