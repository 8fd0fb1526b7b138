import {
  CalendarSummarySchema,
  CalendarYearParamsSchema,
  CalendarYearSchema,
  PutCalendarYearRequestSchema,
} from '@wangge/contracts';
import { actorOf, type App, type AppContext } from '../../platform/http.ts';
import { calendarSummary, calendarYear, replaceCalendarYear } from './calendar.service.ts';

/** GET /api/calendar, GET /api/calendar/:year, PUT /api/calendar/:year (admins load a newly published notice). */
export function registerCalendarRoutes(app: App, ctx: AppContext): void {
  const { db, clock } = ctx;

  app.get(
    '/api/calendar',
    { config: { access: { authenticated: true } }, schema: { response: { 200: CalendarSummarySchema } } },
    async () => calendarSummary({ db, clock }),
  );

  app.get(
    '/api/calendar/:year',
    {
      config: { access: { authenticated: true } },
      schema: { params: CalendarYearParamsSchema, response: { 200: CalendarYearSchema } },
    },
    async (request) => calendarYear({ ex: db.orm, year: request.params.year }),
  );

  app.put(
    '/api/calendar/:year',
    {
      config: { access: { permission: 'calendar.write' } },
      schema: {
        params: CalendarYearParamsSchema,
        body: PutCalendarYearRequestSchema,
        response: { 200: CalendarYearSchema },
      },
    },
    async (request) =>
      replaceCalendarYear({
        db,
        clock,
        actor: actorOf(request),
        requestId: request.id,
        year: request.params.year,
        notice: request.body,
      }),
  );
}
