import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

interface ChildStat {
  code: string;
  name: string;
  level: string;
  centroid: [number, number] | null;
  openCases: number;
  overdueCases: number;
}

/** GET of the API with the page's session cookie (the same answers the page gets). */
async function apiGet<T>(page: Page, path: string): Promise<T> {
  const response = await page.request.get(path);
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

/** The map has drawn and settled: WebGL canvas present, no motion, every tile loaded. */
async function mapSettled(page: Page) {
  const canvas = page.getByTestId('map-canvas');
  await expect.poll(() => canvas.getAttribute('data-map-status'), { timeout: 90_000 }).toBe('ready');
  await canvas.locator('canvas.maplibregl-canvas').waitFor();
  await expect.poll(() => canvas.getAttribute('data-map-idle'), { timeout: 60_000 }).toBe('true');
}

/** What the case layer draws now (the page writes it on the canvas element when the map settles). */
async function casesDrawn(page: Page): Promise<number> {
  return Number((await page.getByTestId('map-canvas').getAttribute('data-cases-drawn')) ?? 0);
}

/** Pixel positions (on the canvas) of drawn single cases or clusters that nothing (a label, a panel) covers. */
async function freeSpots(page: Page, kind: 'points' | 'clusters'): Promise<{ x: number; y: number }[]> {
  const canvas = page.getByTestId('map-canvas');
  const list = (await canvas.getAttribute(`data-case-${kind}`)) ?? '';
  const box = (await canvas.boundingBox())!;
  const spots: { x: number; y: number }[] = [];
  for (const pair of list.split(';').filter(Boolean)) {
    const [x = 0, y = 0] = pair.split(',').map(Number);
    const free = await page.evaluate(
      ([px, py]) => !!document.elementFromPoint(px!, py!)?.classList.contains('maplibregl-canvas'),
      [box.x + x, box.y + y],
    );
    if (free) spots.push({ x: box.x + x, y: box.y + y });
  }
  return spots;
}

/** The side panel shows the current region's numbers (not the previous region's while they load). */
async function summarySettled(page: Page) {
  await expect.poll(() => page.getByTestId('region-summary').getAttribute('aria-busy')).toBe('false');
}

/**
 * The map really draws: a screenshot of the canvas alone (labels, legend and controls hidden) is not one flat
 * colour. A flat area compresses to a few KB; borders, fills and grid lines do not.
 */
async function canvasDrawn(page: Page): Promise<number> {
  const png = await page.getByTestId('map-canvas').screenshot({
    style:
      '.maplibregl-marker, .map-float, .maplibregl-ctrl, .maplibregl-popup { visibility: hidden !important; }',
  });
  return png.length;
}

describe.runIf(browserAvailable())('指挥一张图 (the map)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the street coloured by open cases, drills down to a grid, filters the case points', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    const me = await apiGet<{ scope: { regionCode: string; name: string }[] }>(page, '/api/me');
    const street = me.scope[0]!;

    await page.goto('/map');
    await mapSettled(page);
    await summarySettled(page);
    expect(await page.getByTestId('crumb-current').textContent()).toBe(street.name);

    // The children and their counts, as the API answers them.
    const communities = (
      await apiGet<{ items: ChildStat[] }>(page, `/api/regions/${street.regionCode}/children/stats`)
    ).items;
    expect(communities.length).toBeGreaterThan(1);
    const list = page.getByTestId('children-list');
    await expect.poll(() => list.locator('button.map-child').count()).toBe(communities.length);
    for (const c of communities) {
      const row = page.getByTestId(`child-${c.code}`);
      expect(await row.textContent()).toContain(c.name);
      expect(await row.textContent()).toContain(String(c.openCases));
      await page.getByTestId(`label-${c.code}`).waitFor();
    }
    const streetStats = await apiGet<{ counts: { openCases: number } }>(
      page,
      `/api/regions/${street.regionCode}/stats`,
    );
    expect(await page.getByTestId('region-summary').textContent()).toContain(
      String(streetStats.counts.openCases),
    );
    expect(await canvasDrawn(page)).toBeGreaterThan(15_000);
    // The case layer (vector tiles GET /tiles/cases) draws the street's open cases: clusters with counts.
    const openAtStart = await apiGet<{ total: number }>(
      page,
      `/api/cases?region=${street.regionCode}&state=open&limit=1`,
    );
    expect(openAtStart.total).toBeGreaterThan(0);
    await expect.poll(() => casesDrawn(page), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await casesDrawn(page)).toBeLessThanOrEqual(openAtStart.total);
    await screenshot(page, 'map-street');

    // Drill into the community with the most open cases by its label on the map …
    const community = [...communities].sort((a, b) => b.openCases - a.openCases)[0]!;
    await page.getByTestId(`label-${community.code}`).click();
    await expect.poll(() => page.getByTestId('crumb-current').textContent()).toBe(community.name);
    await mapSettled(page);
    await summarySettled(page);
    const grids = (
      await apiGet<{ items: ChildStat[] }>(page, `/api/regions/${community.code}/children/stats`)
    ).items;
    expect(grids.length).toBeGreaterThan(0);
    await expect.poll(() => list.locator('button.map-child').count()).toBe(grids.length);
    expect(grids.every((g) => g.level === 'grid')).toBe(true);

    // … then open a grid from the list (the keyboard path): its panel shows its workers and counts.
    const grid = [...grids].sort((a, b) => b.openCases - a.openCases)[0]!;
    await page.getByTestId(`child-${grid.code}`).focus();
    await page.keyboard.press('Enter');
    const panel = page.getByTestId('grid-panel');
    await panel.waitFor();
    await expect.poll(() => page.getByTestId('grid-panel-title').textContent()).toContain(grid.name);
    const workers = await apiGet<{ items: { displayName: string }[] }>(
      page,
      `/api/users?region=${grid.code}&role=grid_worker`,
    );
    expect(workers.items.length).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('grid-workers').textContent())
      .toContain(workers.items[0]!.displayName);
    const gridStats = await apiGet<{ counts: { openCases: number; overdueCases: number; workers: number } }>(
      page,
      `/api/regions/${grid.code}/stats`,
    );
    const counts = page.getByTestId('grid-counts');
    await counts.waitFor();
    expect(await counts.textContent()).toContain(String(gridStats.counts.openCases));
    expect(await counts.textContent()).toContain(String(gridStats.counts.workers));
    if (gridStats.counts.openCases > 0)
      await expect.poll(() => page.getByTestId('grid-cases').locator('a').count()).toBeGreaterThan(0);
    await mapSettled(page);
    await screenshot(page, 'map-grid-panel');

    // A cluster zooms in when clicked; a single case opens its popup (title from the case) with a link to it.
    expect(community.openCases).toBeGreaterThan(0);
    let spot: { x: number; y: number } | undefined;
    for (let round = 0; round < 5 && !spot; round++) {
      await expect.poll(() => casesDrawn(page), { timeout: 30_000 }).toBeGreaterThan(0);
      spot = (await freeSpots(page, 'points'))[0];
      if (spot) break;
      const cluster = (await freeSpots(page, 'clusters'))[0];
      expect(cluster, 'a cluster nothing covers').toBeDefined();
      const canvas = page.getByTestId('map-canvas');
      const zoomBefore = await canvas.getAttribute('data-case-clusters');
      await page.mouse.click(cluster!.x, cluster!.y);
      await expect
        .poll(() => canvas.getAttribute('data-case-clusters'), { timeout: 30_000 })
        .not.toBe(zoomBefore);
      await mapSettled(page);
    }
    expect(spot, 'a single case drawn after zooming into clusters').toBeDefined();
    await page.mouse.click(spot!.x, spot!.y);
    const popup = page.getByTestId('case-popup');
    await popup.waitFor();
    const caseId = await popup.getAttribute('data-case-id');
    const shownCase = await apiGet<{ serial: string; title: string }>(page, `/api/cases/${caseId}`);
    await expect.poll(() => popup.textContent()).toContain(shownCase.title);
    expect(await popup.textContent()).toContain(shownCase.serial);
    expect(await popup.locator('a').getAttribute('href')).toBe(`/cases/${caseId}`);
    await screenshot(page, 'map-case-popup');
    await page.locator('.maplibregl-popup-close-button').click();
    await popup.waitFor({ state: 'detached' });

    // Back up to the street through the breadcrumb.
    await page
      .getByRole('button', { name: /close|关闭/i })
      .first()
      .click();
    await page.getByTestId('grid-panel').waitFor({ state: 'detached' });
    await page.locator('.ant-breadcrumb a', { hasText: street.name }).click();
    await expect.poll(() => page.getByTestId('crumb-current').textContent()).toBe(street.name);

    // The count beside the filters is the API's count for the same filters, before and after a category.
    const total = page.getByTestId('case-total');
    const open = await apiGet<{ total: number }>(
      page,
      `/api/cases?region=${street.regionCode}&state=open&limit=1`,
    );
    await expect.poll(() => total.getAttribute('data-total')).toBe(String(open.total));
    const taxonomy = await apiGet<{
      categories: {
        code: string;
        nameZh: string;
        active: boolean;
        items: { code: string; active: boolean }[];
      }[];
    }>(page, '/api/taxonomy');
    const category = taxonomy.categories.find((c) => c.active)!;
    const filtered = await apiGet<{ total: number }>(
      page,
      `/api/cases?region=${street.regionCode}&state=open&categoryCode=${category.code}&limit=1`,
    );
    await page.getByLabel('事项分类').click();
    await page
      .locator('.ant-select-dropdown:visible .ant-select-tree-title', { hasText: category.nameZh })
      .first()
      .click();
    await expect.poll(() => total.getAttribute('data-total')).toBe(String(filtered.total));
    expect(filtered.total).toBeLessThanOrEqual(open.total);

    // 导出 CSV downloads the same cases: the button carries the current region and filters.
    const exportHref = await page.getByTestId('case-export').getAttribute('href');
    const exportUrl = new URL(exportHref!, baseUrl);
    expect(exportUrl.pathname).toBe('/api/cases/export.csv');
    expect(Object.fromEntries(exportUrl.searchParams)).toMatchObject({
      region: street.regionCode,
      state: 'open',
      categoryCode: category.code,
      lang: 'zh',
    });
    const exported = await page.request.get(`${exportUrl.pathname}${exportUrl.search}`);
    expect(exported.status()).toBe(200);
    expect(exported.headers()['content-disposition']).toContain(encodeURIComponent('案件导出-'));
    const csv = (await exported.body()).toString('utf8');
    expect(csv.startsWith('\uFEFF案件编号,标题,')).toBe(true);
    expect(Number(exported.headers()['x-total-count'])).toBe(filtered.total);
    if (filtered.total === 0) await page.getByTestId('map-empty').waitFor();
    await mapSettled(page);
    await screenshot(page, 'map-filtered');

    // Live: a case reported meanwhile shows up in the count without a reload (case event → refetch).
    await page.getByRole('button', { name: /重\s*置/ }).click();
    await expect.poll(() => total.getAttribute('data-total')).toBe(String(open.total));
    const item = taxonomy.categories.find((c) => c.active)!.items.find((i) => i.active)!;
    const centroid = community.centroid!;
    const created = await page.request.post('/api/cases', {
      data: {
        clientId: crypto.randomUUID(),
        title: '地图实时更新测试：井盖缺失',
        categoryCode: item.code,
        location: { lng: centroid[0], lat: centroid[1] },
        channel: 'department',
      },
    });
    expect(created.ok(), await created.text()).toBe(true);
    await expect
      .poll(() => total.getAttribute('data-total'), { timeout: 30_000 })
      .toBe(String(open.total + 1));
    await page.getByTestId('map-live').waitFor();
    await mapSettled(page);
    await context.close();
  });

  it('says so, instead of a blank area, when the browser has no WebGL; the list still drills down', async () => {
    const context = await newContext(browser, baseUrl);
    // As a browser without WebGL answers: no webgl / webgl2 context (the page runs this before its own scripts).
    await context.addInitScript(`{
      const original = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
        return String(type).startsWith('webgl') ? null : original.call(this, type, ...rest);
      };
    }`);
    const page = await loginAs(context, 'demo-street');
    await page.goto('/map');
    const message = page.getByTestId('map-unavailable');
    await message.waitFor();
    expect(await message.textContent()).toContain('WebGL');
    const first = page.getByTestId('children-list').locator('button.map-child').first();
    const name = (await first.locator('.map-child-name').textContent()) ?? '';
    await first.click();
    await expect.poll(() => page.getByTestId('crumb-current').textContent()).toBe(name);
    await summarySettled(page);
    await expect.poll(() => page.getByTestId('case-total').getAttribute('data-total')).not.toBe('');
    await screenshot(page, 'map-no-webgl');
    await context.close();
  });
});
