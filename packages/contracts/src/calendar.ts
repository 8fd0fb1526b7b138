import { z } from 'zod';

/** Working-day calendar (工作日历): public holidays (法定节假日) and make-up workdays (调休上班) per year. */

export const CalendarYearParamsSchema = z.object({ year: z.coerce.number().int().min(2000).max(2100) });

export const CalendarSummarySchema = z.object({
  years: z.array(
    z.object({
      year: z.number().int(),
      source: z.string(),
      loadedAt: z.string(),
      holidays: z.number().int(),
      makeUpWorkdays: z.number().int(),
    }),
  ),
  lastKnownYear: z.number().int().nullable(),
  /** Shown to admins: next year's notice is not loaded yet (from 1 November), or this year's is missing. */
  warning: z.string().nullable(),
});
export type CalendarSummary = z.infer<typeof CalendarSummarySchema>;

const LocalDateSchema = z.iso.date();

export const CalendarYearSchema = z.object({
  year: z.number().int(),
  source: z.string(),
  loadedAt: z.string(),
  holidays: z.array(z.object({ name: z.string(), days: z.array(z.string()) })),
  makeUpWorkdays: z.array(z.object({ name: z.string(), day: z.string() })),
});
export type CalendarYear = z.infer<typeof CalendarYearSchema>;

/** Replaces a whole year (as published in the State Council's notice, 国务院办公厅关于部分节假日安排的通知). */
export const PutCalendarYearRequestSchema = z.object({
  /** Where the schedule comes from, e.g. the notice's number. */
  source: z.string().trim().min(1).max(300).optional(),
  holidays: z
    .array(
      z.object({
        name: z.string().trim().min(1).max(50),
        days: z.array(LocalDateSchema).min(1).max(31),
      }),
    )
    .max(30),
  makeUpWorkdays: z
    .array(
      z.union([
        LocalDateSchema,
        z.object({ name: z.string().trim().min(1).max(50).optional(), day: LocalDateSchema }),
      ]),
    )
    .max(30),
});
export type PutCalendarYearRequest = z.infer<typeof PutCalendarYearRequestSchema>;
