import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

/**
 * Flow 2 (issue 4): a department handler sees only the cases their department is on. The police handler opens the
 * page of a case only urban management handles and gets the not-found page (the API answers 404, exactly as for a
 * case that does not exist), while the urban management handler sees it.
 */

interface QueueItem {
  id: number;
  serial: string;
}
interface CaseDetail {
  id: number;
  serial: string;
  title: string;
  departments: { id: number; name: string }[];
  leadDepartment: { id: number; name: string } | null;
}

describe.runIf(browserAvailable())('flow 2: department scope', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the police handler cannot open a case only urban management is on', async () => {
    // A case from the urban management handler's own queues with no other department on it.
    const urbanContext = await newContext(browser, baseUrl);
    const urban = await loginAs(urbanContext, 'demo-dept-urban');
    let target: CaseDetail | null = null;
    for (const bucket of ['in_progress', 'awaiting_accept', 'overdue']) {
      const response = await urban.request.get(`/api/queues/mine?bucket=${bucket}&limit=50`);
      expect(response.status()).toBe(200);
      const { items } = (await response.json()) as { items: QueueItem[] };
      for (const item of items) {
        const detail = (await (await urban.request.get(`/api/cases/${item.id}`)).json()) as CaseDetail;
        const only =
          detail.leadDepartment && detail.departments.every((d) => d.id === detail.leadDepartment!.id);
        if (only && detail.leadDepartment!.name === '城市管理综合执法') {
          target = detail;
          break;
        }
      }
      if (target) break;
    }
    expect(target, 'the demo city has a case only urban management handles').not.toBeNull();
    const { id, serial, title } = target!;

    // The urban management handler sees it …
    await urban.goto(`/cases/${id}`);
    await urban.getByTestId('case-page').waitFor();
    expect(await urban.locator('h3.page-title').textContent()).toContain(title);
    await urbanContext.close();

    // … the police handler does not: not found, with the way back to the workbench.
    const policeContext = await newContext(browser, baseUrl);
    const police = await loginAs(policeContext, 'demo-dept-police');
    expect((await police.request.get(`/api/cases/${id}`)).status()).toBe(404);
    await police.goto(`/cases/${id}`);
    await police.getByText('页面不存在或无权查看').waitFor();
    expect(await police.getByTestId('case-page').count()).toBe(0);
    expect(await police.locator('body').textContent()).not.toContain(serial);
    await screenshot(police, 'case-not-found');
    await police.getByRole('button', { name: '返回工作台' }).click();
    await police.waitForURL('**/workbench');
    await policeContext.close();
  });
});
