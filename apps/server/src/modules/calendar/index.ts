export { registerCalendarRoutes } from './calendar.routes.ts';
export {
  calendarWarning,
  ensureDefaultCalendar,
  getWorkCalendar,
  invalidateWorkCalendar,
} from './calendar.service.ts';
export { stageDue, type CaseStage } from './deadline.ts';
export {
  addHours,
  chinaDateOf,
  endOfChinaDay,
  WorkCalendar,
  type WorkingDaysResult,
} from './work-calendar.ts';
