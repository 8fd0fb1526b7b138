import type { CaseStatus, CaseStreamEvent } from '@wangge/contracts';
import { rows, sql, type Database } from '../../platform/db.ts';
import type { RealtimeHub } from '../../platform/realtime.ts';
import { canSeeCase, type CaseFacts } from './case.policy.ts';

interface StreamCaseRow {
  id: number;
  serial: string;
  status: CaseStatus;
  region_path: string;
  owner_region_path: string;
  lead_department_id: number | null;
  reporter_user_id: number | null;
  department_ids: number[];
}

/**
 * Case events on the realtime stream (`event: case`): for each batch of `case.*` outbox rows, the cases are loaded
 * once, as they are now, and each subscriber gets the events of the cases `canSeeCase` lets them see — the same
 * rule as GET /api/cases/{id}, so a department handler hears of a case once their department is on it.
 */
export function registerCaseStream(hub: RealtimeHub, db: Database): void {
  hub.register('case.', async (batch) => {
    const ids = [
      ...new Set(batch.map((row) => row.payload.caseId).filter((id): id is number => Number.isInteger(id))),
    ];
    const found =
      ids.length === 0
        ? []
        : await rows<StreamCaseRow>(
            db.orm,
            sql`select c.id::int as id, c.serial, c.status, c.region_path, c.owner_region_path,
                  c.lead_department_id::int as lead_department_id, c.reporter_user_id::int as reporter_user_id,
                  array(select cd.department_id::int from case_department cd where cd.case_id = c.id
                        order by cd.department_id) as department_ids
                from grid_case c
                where c.id in (${sql.join(
                  ids.map((id) => sql`${id}`),
                  sql`, `,
                )})`,
          );
    const cases = new Map(
      found.map((c) => {
        const facts: CaseFacts = {
          regionPath: c.region_path,
          ownerRegionPath: c.owner_region_path,
          leadDepartmentId: c.lead_department_id,
          reporterUserId: c.reporter_user_id,
          departmentIds: c.department_ids.map(Number),
        };
        return [c.id, { row: c, facts }] as const;
      }),
    );
    return (row, subscriber) => {
      const entry = cases.get(row.payload.caseId as number);
      if (!entry || !canSeeCase(subscriber.actor, entry.facts)) return null;
      const data: CaseStreamEvent = {
        topic: row.topic,
        caseId: entry.row.id,
        serial: entry.row.serial,
        status: entry.row.status,
        at: row.createdAt,
      };
      return { event: 'case', data };
    };
  });
}
