import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import {
  animationsSettled,
  browserAvailable,
  launchBrowser,
  loginAs,
  newContext,
  screenshot,
} from './browser.ts';

/**
 * Flow 1 (issue 4): the whole case loop in the console, by the people who do it. A 12345 hotline operator takes a
 * call about a broken manhole cover in 西林社区第一网格 (demo-worker's grid, street 230803001); the street centre
 * sees it arrive live, files it and dispatches it to 城市管理综合执法 (the item's default department); the
 * department accepts and responds with a photo; the grid worker inspects and passes it; the hotline records the
 * call-back rating; the cockpit's figures move accordingly.
 */

/** The grid of demo-worker (first grid of the first community of the first street), from the demo seed. */
const workerGrid = '230803001001001';
const workerGridName = '西林社区第一网格';
const streetCode = '230803001';
/** 0501 道路与井盖损坏: default department urban-management in db/data/taxonomy-default.json. */
const itemTitle = '0501 道路与井盖损坏';
const department = '城市管理综合执法';

const countKeys = ['accepted', 'filed', 'responded', 'closed', 'resolved', 'rated', 'satisfied'] as const;
type Counts = Record<(typeof countKeys)[number], number>;

/** Resolves when the element's CSS animations (AntD's modal zoom) have finished: screenshots show the settled UI. */
async function settled(page: Page): Promise<void> {
  await animationsSettled(page.getByRole('dialog'));
}

async function statusOf(page: Page): Promise<string | null> {
  return page.getByTestId('case-flags').getByTestId('case-status').textContent();
}

/** Opens an action's form, lets `fill` fill it, and submits with the dialog's confirm button. */
async function act(page: Page, action: string, confirm: string, fill?: () => Promise<void>): Promise<void> {
  await page.getByTestId(`action-${action}`).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  if (fill) await fill();
  await dialog.getByRole('button', { name: confirm }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** The cockpit's figures (cards `kpi-<key>`): the number shown, for each count. */
async function cockpitCounts(page: Page): Promise<Counts> {
  const counts = {} as Counts;
  for (const key of countKeys) {
    const card = page.getByTestId(`kpi-${key}`).first();
    const value = (await card.getAttribute('data-value')) ?? (await card.textContent()) ?? '';
    counts[key] = Number(value.replace(/[^\d]/g, ''));
  }
  return counts;
}

async function apiCounts(page: Page, from: string, to: string): Promise<Counts> {
  const response = await page.request.get(`/api/kpis?region=${streetCode}&from=${from}&to=${to}`);
  expect(response.status()).toBe(200);
  const body = (await response.json()) as { counts: Counts };
  return Object.fromEntries(countKeys.map((k) => [k, body.counts[k]])) as Counts;
}

describe.runIf(browserAvailable())('flow 1: the case loop, hotline to cockpit', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a hotline case is filed, dispatched, handled, inspected, rated and counted', async () => {
    const stamp = Date.now().toString(36);
    const title = `西林路井盖缺失 ${stamp}`;

    // The street centre: the cockpit's figures first, then the workbench, left open.
    const streetContext = await newContext(browser, baseUrl);
    const street = await loginAs(streetContext, 'demo-street');
    await street.goto(`/cockpit?region=${streetCode}&period=month`);
    await street.getByTestId('kpi-accepted').waitFor({ timeout: 30_000 });
    const period = street.getByTestId('kpi-period');
    const from = (await period.getAttribute('data-from'))!;
    const to = (await period.getAttribute('data-to'))!;
    const before = await cockpitCounts(street);
    expect(before).toEqual(await apiCounts(street, from, to));

    await street.goto('/workbench?bucket=to_verify');
    await street.getByTestId('bucket-to_verify').waitFor();
    await street.getByTestId('queue-table').waitFor();
    let reloads = 0;
    street.on('load', () => reloads++);

    // The hotline operator takes the call.
    const hotlineContext = await newContext(browser, baseUrl);
    const hotline = await loginAs(hotlineContext, 'demo-hotline');
    await hotline.goto('/cases/new');
    await hotline.getByLabel('来电人姓名').fill('王先生');
    await hotline.getByLabel('来电号码').fill('13800138000');
    await hotline.getByLabel('工单号').fill(`12345-${stamp}`);
    await hotline.getByLabel('标题').fill(title);
    await hotline
      .getByLabel('问题描述')
      .fill('来电反映西林路东侧人行道井盖缺失，夜间行人有跌落危险，请尽快处理。');
    await hotline.getByLabel('事项分类').click();
    await hotline.getByLabel('事项分类').fill('0501');
    await hotline.locator('.ant-select-tree-node-content-wrapper', { hasText: itemTitle }).click();
    await hotline.getByLabel('详细地址').fill('西林路 12 号东侧人行道');
    // Find the grid, let the map centre on it, click the middle of the map.
    await hotline.getByLabel('地点搜索').fill(workerGrid);
    await hotline.locator('.ant-select-item-option', { hasText: workerGridName }).click();
    const map = hotline
      .getByTestId('pick-point-map')
      .locator('[data-testid="map-canvas"][data-map-status="ready"]');
    await map.waitFor({ timeout: 30_000 });
    await map.click();
    await expect
      .poll(() => hotline.getByTestId('routed-grid').textContent(), { timeout: 15_000 })
      .toContain(workerGrid);
    await hotline.getByTestId('duplicate-hints').waitFor({ timeout: 15_000 });
    await screenshot(hotline, 'new-case');
    await hotline.getByRole('button', { name: '保存并上报' }).click();
    await hotline.waitForURL(/\/cases\/\d+$/);
    const caseId = Number(new URL(hotline.url()).pathname.split('/').pop());
    await hotline.getByTestId('case-page').waitFor();
    expect(await statusOf(hotline)).toBe('上报');
    const detail = (await (await hotline.request.get(`/api/cases/${caseId}`)).json()) as {
      grid: { code: string };
      owner: { regionCode: string };
      serial: string;
    };
    expect(detail.grid.code).toBe(workerGrid);
    expect(detail.owner.regionCode).toBe(streetCode);

    // The street centre sees it arrive without reloading.
    const row = street.getByTestId('queue-table').locator('tr', { hasText: title });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain(detail.serial);
    expect(reloads).toBe(0);
    await screenshot(street, 'workbench-street');

    // 立案, then 派遣 to the item's default department.
    await row.click();
    await street.waitForURL(`**/cases/${caseId}`);
    await street.getByTestId('case-page').waitFor();
    await act(street, 'file', '确认立案');
    await expect.poll(() => statusOf(street)).toBe('已立案');
    await street.getByTestId('action-dispatch').click();
    const dispatch = street.getByRole('dialog');
    await dispatch.getByTestId('dispatch-due').waitFor();
    await expect.poll(() => dispatch.textContent()).toContain(`${department}（默认）`);
    expect(await dispatch.getByTestId('dispatch-due').textContent()).toMatch(/报到时限.*处置时限/);
    await settled(street);
    await screenshot(street, 'case-dispatch-form');
    await dispatch.getByRole('button', { name: '确认派遣' }).click();
    await dispatch.waitFor({ state: 'hidden' });
    await expect.poll(() => statusOf(street)).toBe('已派遣');
    expect(await street.getByTestId('case-departments').textContent()).toContain(department);

    // The department accepts (报到) and responds with a photo of the repaired cover.
    const urbanContext = await newContext(browser, baseUrl);
    const urban = await loginAs(urbanContext, 'demo-dept-urban');
    await urban.goto('/workbench?bucket=awaiting_accept');
    await urban.getByTestId('queue-table').locator('tr', { hasText: title }).click();
    await urban.waitForURL(`**/cases/${caseId}`);
    await act(urban, 'accept', '确认报到');
    await expect.poll(() => statusOf(urban)).toBe('处置中');
    const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#6b7b8c' } })
      .jpeg()
      .toBuffer();
    await act(urban, 'respond', '确认处置反馈', async () => {
      const dialog = urban.getByRole('dialog');
      await dialog.getByLabel('处置结果').fill('已更换新井盖并设置警示标志，现场恢复通行。');
      await dialog
        .locator('input[type=file]')
        .setInputFiles({ name: 'fixed.jpg', mimeType: 'image/jpeg', buffer: photo });
      await dialog.locator('.ant-upload-list-item-done').waitFor();
      await settled(urban);
      await screenshot(urban, 'case-department');
    });
    await expect.poll(() => statusOf(urban)).toBe('已反馈');
    await urban.getByTestId('case-photos').locator('img').first().waitFor();

    // The grid worker of the case's grid checks it on site and passes it.
    const workerContext = await newContext(browser, baseUrl);
    const worker = await loginAs(workerContext, 'demo-worker');
    await worker.goto('/workbench?bucket=to_inspect');
    await worker.getByTestId('queue-table').locator('tr', { hasText: title }).click();
    await worker.waitForURL(`**/cases/${caseId}`);
    await act(worker, 'startInspection', '确认开始核查');
    await expect.poll(() => statusOf(worker)).toBe('核查中');
    await act(worker, 'inspect', '确认核查', async () => {
      const dialog = worker.getByRole('dialog');
      await dialog.getByText('通过，结案').click();
      await dialog.getByLabel('办理意见').fill('现场核查，井盖已更换，符合要求。');
      await settled(worker);
      await screenshot(worker, 'case-inspect');
    });
    await expect.poll(() => statusOf(worker)).toBe('已结案');

    // The hotline calls the reporter back (回访) and records the rating.
    await hotline.goto(`/cases/${caseId}`);
    await act(hotline, 'evaluate', '确认回访评价', async () => {
      const dialog = hotline.getByRole('dialog');
      await dialog.getByText('满意', { exact: true }).click();
      expect(await dialog.getByLabel('电话回访').isChecked()).toBe(true);
      await dialog.getByLabel('办理意见').fill('回访来电人，对处理结果满意。');
    });
    await expect.poll(() => statusOf(hotline)).toBe('已评价');
    expect(await hotline.getByTestId('evaluation').textContent()).toBe('满意');
    await hotline.getByTestId('timeline-evaluate').waitFor();
    await hotline.getByTestId('timeline-evaluate').scrollIntoViewIfNeeded();
    await screenshot(hotline, 'case-evaluated');

    // The cockpit: one more case accepted, filed, responded, closed, resolved, rated and satisfied.
    await street.goto(`/cockpit?region=${streetCode}&period=month`);
    await street.getByTestId('kpi-accepted').waitFor({ timeout: 30_000 });
    const expected = Object.fromEntries(countKeys.map((k) => [k, before[k] + 1])) as Counts;
    await expect.poll(() => cockpitCounts(street), { timeout: 20_000 }).toEqual(expected);
    expect(await apiCounts(street, from, to)).toEqual(expected);
    await screenshot(street, 'cockpit-after');

    for (const context of [streetContext, hotlineContext, urbanContext, workerContext]) await context.close();
  }, 300_000);
});
