import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  animationsSettled,
  browserAvailable,
  demoPassword,
  launchBrowser,
  loginAs,
  newContext,
  screenshot,
} from './browser.ts';

/**
 * Notices and alerts in the console (issue 7): the street's centre composes a notice and watches a grid's relay
 * (已转达) arrive live; it sends a missing-person alert with a photo, watches a worker's acknowledgement and
 * sighting arrive live on the board (table and map), and closes it as found.
 */
describe.runIf(browserAvailable())('notices and alerts (通知公告 · 紧急协查)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  const tag = randomUUID().slice(0, 6);
  let workerToken: string;
  let gridCode: string;
  let gridCentre: [number, number];

  async function token(username: string): Promise<string> {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: demoPassword }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${workerToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as T;
  }
  async function photo(colour: { r: number; g: number; b: number }): Promise<Buffer> {
    return sharp({ create: { width: 480, height: 600, channels: 3, background: colour } })
      .jpeg({ quality: 80 })
      .toBuffer();
  }
  /** The page's own stream is open: what happens next must arrive live, not by polling. */
  async function streamOpen(page: Page): Promise<void> {
    await page.locator('[data-testid="live-state"][data-state="open"]').waitFor({ timeout: 20_000 });
  }

  beforeAll(async () => {
    browser = await launchBrowser();
    workerToken = await token('demo-worker');
    const me = await call<{ roles: { role: string; regionCode: string }[] }>('GET', '/api/me');
    gridCode = me.roles.find((r) => r.role === 'grid_worker')!.regionCode;
    const region = await call<{ centroid: [number, number] }>('GET', `/api/regions/${gridCode}`);
    gridCentre = region.centroid;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the street composes a notice; a grid relays it and the statistics show it live', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await page.getByRole('menuitem', { name: '通知公告' }).click();
    await page.waitForURL('**/notices');
    await page.getByTestId('notice-compose').click();
    await page.waitForURL('**/notices/new');

    const title = `防汛工作通知 ${tag}`;
    await page.getByLabel('标题').fill(title);
    await page
      .getByLabel('正文')
      .fill('请各网格于今日内转达：明日有强降雨，低洼地带住户注意防范，地下车库及时转移车辆。');
    // the street is the default area (the sender's own); every grid below it receives the notice
    await expect.poll(() => page.locator('.ant-select:has(#notice-region)').textContent()).toContain('街道');
    await page.locator('input[type=file][accept^="image/"]').setInputFiles({
      name: 'flood.jpg',
      mimeType: 'image/jpeg',
      buffer: await photo({ r: 40, g: 110, b: 200 }),
    });
    // a document besides the image: sent as it is, listed with its name and size
    const pdf = Buffer.from(
      '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n' +
        '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
      'latin1',
    );
    await page.locator('input[type=file][accept^=".pdf"]').setInputFiles({
      name: '防汛物资清单.pdf',
      mimeType: 'application/pdf',
      buffer: pdf,
    });
    await expect
      .poll(() => page.getByTestId('notice-document-row').textContent())
      .toContain('防汛物资清单.pdf');
    await page.getByLabel('提醒间隔（分钟）').fill('30');
    await page.locator('.ant-upload-list-item').first().waitFor();
    await animationsSettled(page.getByTestId('notice-compose-page'));
    await screenshot(page, 'notices-compose');
    await page.getByTestId('notice-submit').click();
    await page.waitForURL(/\/notices\/\d+$/, { timeout: 30_000 });
    const noticeId = Number(/\/notices\/(\d+)$/.exec(page.url())![1]);

    const table = page.getByTestId('notice-grid-table');
    const row = table.locator(`tr[data-grid="${gridCode}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getAttribute('data-relayed')).toBe('false');
    const gridRows = table.locator('tbody tr[data-grid]');
    const total = await gridRows.count();
    expect(total).toBeGreaterThan(1);
    await page.getByTestId('notice-attachment').first().waitFor();
    const documentLink = page.getByTestId('notice-document');
    await documentLink.waitFor();
    expect(await documentLink.textContent()).toContain('防汛物资清单.pdf');
    const download = await page.request.get(
      new URL((await documentLink.getAttribute('href'))!, page.url()).href,
    );
    expect(download.status()).toBe(200);
    expect(download.headers()['content-type']).toBe('application/pdf');
    expect((await download.body()).equals(pdf)).toBe(true);
    await streamOpen(page);
    expect(await page.getByTestId('stat-grids').textContent()).toContain(`/ ${total}`);
    await screenshot(page, 'notices-stats');

    // demo-worker relays it to the grid group (field app, here through the API with its token)
    const ack = await call<{ created: boolean }>('POST', `/api/notices/${noticeId}/acknowledge`, {
      gridCode,
    });
    expect(ack.created).toBe(true);
    // no reload: the relay arrives on the stream
    await page.locator(`tr[data-grid="${gridCode}"][data-relayed="true"]`).waitFor({ timeout: 15_000 });
    await expect
      .poll(() => page.getByTestId('stat-grids').locator('.ant-statistic-content-value').textContent())
      .toBe('1');
    // not relayed first: the relayed grid is now the last row
    expect(await gridRows.last().getAttribute('data-grid')).toBe(gridCode);
    expect(await gridRows.first().getAttribute('data-relayed')).toBe('false');
    await screenshot(page, 'notices-stats-live');

    // a second notice, not relayed yet (sent through the API by the same street)
    const streetToken = await token('demo-street');
    const second = `社区疫苗接种安排 ${tag}`;
    const sent = await fetch(`${baseUrl}/api/notices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${streetToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: randomUUID(),
        title: second,
        body: '本周六上午在社区卫生服务站接种，请转达到网格群。',
        target: { kind: 'grids', gridCodes: [gridCode] },
      }),
    });
    expect(sent.status).toBe(201);

    // the worker's console: unread first; the relayed one below, marked for their grid; opening one marks it read
    const workerContext = await newContext(browser, baseUrl);
    const worker = await loginAs(workerContext, 'demo-worker');
    await worker.getByRole('menuitem', { name: '通知公告' }).click();
    const rows = worker.getByTestId('my-notices').locator('tbody tr.ant-table-row');
    const unread = rows.filter({ hasText: second });
    const relayed = rows.filter({ hasText: title });
    await unread.waitFor({ timeout: 20_000 });
    await relayed.getByText('已转达').waitFor();
    await unread.getByText('未读').waitFor();
    expect(await rows.first().textContent()).toContain(second);
    await screenshot(worker, 'notices-mine');
    await unread.getByTestId('notice-mark-read').click();
    await unread.getByText('已读').waitFor();
    await relayed.getByTestId('my-notice-title').click();
    const drawer = worker.getByRole('dialog');
    await drawer.getByText('低洼地带住户', { exact: false }).waitFor();
    await drawer.locator('img').first().waitFor();
    await animationsSettled(worker.locator('body'));
    await screenshot(worker, 'notices-read');
    await workerContext.close();
    await context.close();
  });

  it('the street sends a missing-person alert; acknowledgement and sighting arrive live; closed as found', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await page.getByRole('menuitem', { name: '紧急协查' }).click();
    await page.waitForURL('**/alerts');
    await page.getByTestId('alert-create').click();
    await page.waitForURL('**/alerts/new');

    const title = `寻找走失老人 张某某 ${tag}`;
    await page.getByLabel('标题').fill(title);
    await page
      .getByLabel('描述', { exact: true })
      .fill('男，78 岁，身高约 170 cm，灰色夹克、黑色布鞋，患阿尔茨海默症，说话口音较重。');
    await page.locator('input[type=file]').setInputFiles({
      name: 'person.jpg',
      mimeType: 'image/jpeg',
      buffer: await photo({ r: 190, g: 150, b: 120 }),
    });
    await page.getByLabel('地点描述').fill('幸福路公交站');
    // typed coordinates (the map picks the same fields)
    await page.getByLabel('经度').fill(gridCentre[0].toFixed(6));
    await page.getByLabel('纬度').fill(gridCentre[1].toFixed(6));
    await page.getByTestId('pick-pin').waitFor({ timeout: 30_000 });
    await page.locator('.ant-upload-list-item').first().waitFor();
    await page.locator('[data-testid="alert-point-map"] [data-map-idle="true"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'alerts-create');
    await page.getByTestId('alert-submit').click();
    await page.waitForURL(/\/alerts\/\d+$/, { timeout: 30_000 });
    const alertId = Number(/\/alerts\/(\d+)$/.exec(page.url())![1]);

    const table = page.getByTestId('alert-grid-table');
    const row = table.locator(`tr[data-grid="${gridCode}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getAttribute('data-acknowledged')).toBe('false');
    await page.getByTestId('alert-photo').locator('img').waitFor();
    expect(
      await page
        .getByTestId('alert-photo')
        .locator('img')
        .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
    ).toBe(true);
    const canvas = page.locator('[data-testid="alert-map"] [data-testid="map-canvas"]');
    await canvas.and(page.locator('[data-map-status="ready"]')).waitFor({ timeout: 30_000 });
    const grids = (await call<{ gridCount: number }>('GET', `/api/alerts/${alertId}`)).gridCount;
    // every grid of the street on one page (up to 50), not acknowledged first
    expect(await table.locator('tbody tr[data-grid]').count()).toBe(grids);
    expect(await page.getByTestId('map-pending-count').textContent()).toBe(String(grids));
    await streamOpen(page);
    await page.locator('[data-testid="alert-map"] [data-map-idle="true"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'alerts-board');

    // demo-worker acknowledges and posts a sighting (field app, here through the API with its token)
    await call('POST', `/api/alerts/${alertId}/acknowledge`, { gridCode });
    const note = `在社区菜市场门口见到一位穿灰色夹克的老人 ${tag}`;
    await call('POST', `/api/alerts/${alertId}/sightings`, {
      clientId: randomUUID(),
      note,
      location: { lng: gridCentre[0] + 0.0012, lat: gridCentre[1] - 0.0008 },
      seenAt: new Date(Date.now() - 5 * 60_000).toISOString(),
    });
    // live, no reload: the table row, the map's counts and the sighting on the list and the map
    await page.locator(`tr[data-grid="${gridCode}"][data-acknowledged="true"]`).waitFor({ timeout: 15_000 });
    await page.getByTestId('alert-sighting').filter({ hasText: note }).waitFor({ timeout: 15_000 });
    await page.getByTestId('alert-sighting-marker').filter({ hasText: tag }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('map-ack-count').textContent()).toBe('1');
    expect(await page.getByTestId('map-pending-count').textContent()).toBe(String(grids - 1));
    expect(await table.locator('tbody tr[data-grid]').last().getAttribute('data-grid')).toBe(gridCode);
    await page.locator('[data-testid="alert-map"] [data-map-idle="true"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'alerts-board-live');

    // close as found, after the confirmation
    await page.getByTestId('alert-close').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('已找到').check();
    await dialog.getByLabel('说明（可选）').fill('已在菜市场找到，家属已接回。');
    await animationsSettled(dialog);
    await screenshot(page, 'alerts-close');
    await page.getByTestId('alert-close-confirm').click();
    await page.getByTestId('alert-closed-banner').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('alert-closed-banner').textContent()).toContain('已找到');
    expect(await page.getByTestId('alert-close').count()).toBe(0);
    expect(await page.getByTestId('alert-state').first().textContent()).toBe('已找到');
    // the worker can no longer post to a closed alert
    const late = await fetch(`${baseUrl}/api/alerts/${alertId}/sightings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: randomUUID(),
        note: 'late',
        location: { lng: gridCentre[0], lat: gridCentre[1] },
        seenAt: new Date().toISOString(),
      }),
    });
    expect(late.status).toBe(409);
    await page.waitForTimeout(400);
    await screenshot(page, 'alerts-closed');

    // the list: closed alerts under 已结束
    await page.goto('/alerts?status=closed');
    await page.getByTestId('alerts-table').getByText(title).waitFor();
    await screenshot(page, 'alerts-list');
    await context.close();
  });
});
