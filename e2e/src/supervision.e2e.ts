import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  animationsSettled,
  browserAvailable,
  launchBrowser,
  loginAs,
  newContext,
  screenshot,
} from './browser.ts';

/**
 * Flow 3 (issue 4): 督办. The district centre finds an overdue case in its district, opens it and gives it a yellow
 * card (黄牌督办) with a note through the form; the centre of the case's street sees the card on its workbench (超期
 * queue) and on the case page, with the district's note in the history. The deadline scanner already cards overdue
 * cases by itself (yellow at the deadline, red at twice the limit), and a card is never lowered (the server refuses
 * red → yellow), so the district picks an overdue case that is not red: its card is given by the district, with the
 * district's note, on top of the automatic one.
 */

interface CaseRow {
  id: number;
  serial: string;
  title: string;
  supervision: 'none' | 'normal' | 'yellow' | 'red';
  gridCode: string;
}

async function pickOverdueCase(district: Page): Promise<CaseRow> {
  const me = (await (await district.request.get('/api/me')).json()) as { scope: { regionCode: string }[] };
  const region = me.scope[0]!.regionCode;
  const list = await district.request.get(`/api/cases?state=overdue&region=${region}&sort=due&limit=500`);
  expect(list.status()).toBe(200);
  const overdue = ((await list.json()) as { items: CaseRow[] }).items.filter((c) => c.supervision !== 'red');
  expect(overdue.length, 'the demo district has overdue cases without a red card').toBeGreaterThan(0);
  // The list is sorted by due time, earliest first: the last one has been overdue for the shortest time, so the
  // running deadline scanner will not turn it red (overdue by more than its stage's length) while the flow runs.
  return overdue[overdue.length - 1]!;
}

describe.runIf(browserAvailable())('flow 3: supervision (督办)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the district gives a yellow card and the street sees it', async () => {
    const districtContext = await newContext(browser, baseUrl);
    const district = await loginAs(districtContext, 'demo-district');
    const target = await pickOverdueCase(district);
    const { id, serial } = target;
    const bucket = 'overdue';
    // the command centre of the case's street (demo staff accounts: op-<region code>)
    const streetContext = await newContext(browser, baseUrl);
    const street = await loginAs(streetContext, `op-${target.gridCode.slice(0, 9)}`);
    const note = `请于今日内办结并反馈 ${Date.now().toString(36)}`;

    await district.goto(`/cases/${id}`);
    await district.getByTestId('case-page').waitFor();
    await district.getByTestId('case-flags').getByTestId('overdue').waitFor();
    await district.getByTestId('action-supervise').click();
    const dialog = district.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByText('黄牌督办', { exact: true }).click();
    await dialog.getByLabel('督办意见').fill(note);
    await animationsSettled(dialog);
    await screenshot(district, 'supervise-form');
    await dialog.getByRole('button', { name: '确认督办' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const supervised = district
      .getByTestId('case-timeline')
      .getByTestId('timeline-supervise')
      .filter({ hasText: note });
    await supervised.waitFor();
    expect(await supervised.textContent()).toContain('黄牌督办');
    await district.getByTestId('case-flags').getByTestId('supervision-yellow').waitFor();
    const after = (await (await district.request.get(`/api/cases/${id}`)).json()) as { supervision: string };
    expect(after.supervision).toBe('yellow');
    await districtContext.close();

    // The street centre: the card on its workbench (the overdue queue) … First the server's answer, so that a
    // failure says whether the queue or the page is wrong.
    const queueUrl = `/api/queues/mine?bucket=${bucket}&q=${encodeURIComponent(serial)}`;
    const queued = await street.request.get(queueUrl);
    const queueBody = await queued.text();
    expect(queueBody, `the street's overdue queue (${queued.status()}) holds ${serial}`).toContain(serial);
    await street.goto(`/workbench?bucket=${bucket}&q=${encodeURIComponent(serial)}`);
    const row = street.getByTestId('queue-table').locator('tr', { hasText: serial });
    try {
      await row.waitFor({ timeout: 15_000 });
    } catch (error) {
      await screenshot(street, 'workbench-yellow-card-missing');
      throw error;
    }
    await row.getByTestId('supervision-yellow').waitFor();
    expect(await row.getByTestId('supervision-yellow').textContent()).toBe('黄牌');
    expect(await row.getByTestId('overdue').count()).toBe(1);
    await screenshot(street, 'workbench-yellow-card');

    // … and on the case page, with the district's note.
    await row.click();
    await street.waitForURL(`**/cases/${id}`);
    await street.getByTestId('case-flags').getByTestId('supervision-yellow').waitFor();
    await street.getByTestId('case-timeline').getByText(note).waitFor();
    await streetContext.close();
  });
});
