import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ComplianceReport } from '@wangge/contracts';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

/** Issue 6: the grid leader's view of field work in the console (网格员履职考核). */
describe.runIf(browserAvailable())('field-work compliance in the console', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a grid leader sees every worker of their grids with the figures the API gives, and opens a track', async () => {
    const context = await newContext(browser, baseUrl);
    try {
      const page = await loginAs(context, 'demo-gridleader');
      await page.getByRole('menuitem', { name: '网格员履职' }).click();
      await page.getByTestId('compliance-table').waitFor({ timeout: 30_000 });
      const rows = page.getByTestId('compliance-table').locator('tbody tr.ant-table-row');
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThan(0);

      // the page and the API agree on the same region and period
      const region = new URL(page.url()).searchParams.get('region');
      const query = new URLSearchParams({ period: 'month', ...(region ? { region } : {}) });
      const response = await page.request.get(`/api/compliance?${query.toString()}`);
      expect(response.status()).toBe(200);
      const report = (await response.json()) as ComplianceReport;
      await screenshot(page, 'fieldwork-compliance');
      await expect.poll(() => rows.count()).toBe(Math.min(report.rows.length, 50));
      const first = report.rows.reduce((a, b) => (b.patrol.ratio < a.patrol.ratio ? b : a));
      const firstRow = rows.first();
      await expect.poll(() => firstRow.textContent()).toContain(first.userName);
      await expect
        .poll(() => firstRow.textContent())
        .toContain(`${first.patrol.daysMet} / ${first.patrol.workingDays} 个工作日`);
      await screenshot(page, 'fieldwork-compliance');

      // a worker's patrols of the period, with the track inside the grid outline
      const withPatrol = report.rows.find((r) => r.patrol.seconds > 0);
      expect(withPatrol, 'the demo city has patrols this month').toBeTruthy();
      await page.getByTestId('compliance-worker').filter({ hasText: withPatrol!.userName }).first().click();
      await page
        .getByTestId('patrol-track')
        .waitFor({ timeout: 15_000 })
        .catch(async (e: unknown) => {
          await screenshot(page, 'fieldwork-track-failed');
          throw e;
        });
      expect(await page.locator('[data-testid="patrol-track"] polyline').count()).toBe(1);
      await page.waitForTimeout(400);
      await screenshot(page, 'fieldwork-track');

      // English on the switch
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'English' }).click();
      await page.getByText('Grid worker compliance').waitFor();
      await screenshot(page, 'fieldwork-compliance-en');
      await page.getByRole('button', { name: /中\s*文/ }).click();
    } finally {
      await context.close();
    }
  });

  it('a grid worker does not get the page (no fieldwork.monitor)', async () => {
    const context = await newContext(browser, baseUrl);
    try {
      const page = await loginAs(context, 'demo-worker');
      expect(await page.getByRole('menuitem', { name: '网格员履职' }).count()).toBe(0);
      await page.goto('/fieldwork');
      await page.getByText('您没有访问此页面的权限。').waitFor();
    } finally {
      await context.close();
    }
  });
});
