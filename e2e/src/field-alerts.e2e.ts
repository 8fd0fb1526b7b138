import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { browserAvailable, demoPassword, launchBrowser, newPhoneContext, screenshot } from './browser.ts';

/**
 * Alerts (紧急协查) and notices (通知) in the field app (issue 7), live over the staff stream: two phones of one
 * street see an alert at once, one acknowledges, the other reports a sighting with its location, the alert closes
 * and both banners go; a notice appears in 我的任务 and is relayed (已转达); an acknowledgement made offline
 * arrives once after the network returns.
 */
describe.runIf(browserAvailable())('field app: alerts and notices (网格通, issue 7)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  const tag = randomUUID().slice(0, 6);

  async function token(username: string): Promise<string> {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: demoPassword }),
    });
    expect(res.status, `login ${username}`).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }
  async function call<T>(tok: string, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tok}`,
        ...(body instanceof Buffer
          ? { 'content-type': 'image/jpeg' }
          : body !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
      },
      body:
        body instanceof Buffer ? new Uint8Array(body) : body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    expect(res.status < 300, `${method} ${path}: ${res.status} ${text}`).toBe(true);
    return (text ? JSON.parse(text) : null) as T;
  }
  const get = <T>(tok: string, path: string) => call<T>(tok, 'GET', path);

  interface AlertDetail {
    id: number;
    status: string;
    outcome: string | null;
    hasPhoto: boolean;
    grids: { gridCode: string; acknowledgedAt: string | null }[];
    sightings: { note: string; location: { lng: number; lat: number }; gridCode: string | null }[];
  }

  let streetToken: string;
  let gridCode: string;
  let otherGrid: string;
  let otherWorker: string;
  let street: string;
  let centre: { latitude: number; longitude: number; accuracy: number };
  let otherCentre: { latitude: number; longitude: number; accuracy: number };

  beforeAll(async () => {
    browser = await launchBrowser();
    const workerToken = await token('demo-worker');
    streetToken = await token('demo-street');
    const me = await get<{ roles: { role: string; regionCode: string }[] }>(workerToken, '/api/me');
    gridCode = me.roles.find((r) => r.role === 'grid_worker')!.regionCode;
    const streetMe = await get<{ roles: { role: string; regionCode: string }[] }>(streetToken, '/api/me');
    street = streetMe.roles[0]!.regionCode;
    expect(gridCode.startsWith(street), 'demo-worker works in demo-street’s street').toBe(true);
    // another worker of the same street: gw-<grid code> of another grid
    const grids: string[] = [];
    const walk = async (code: string): Promise<void> => {
      const { items } = await get<{ items: { code: string; level: string }[] }>(
        streetToken,
        `/api/regions/${code}/children`,
      );
      for (const r of items) {
        if (r.level === 'grid') grids.push(r.code);
        else if (grids.length < 10) await walk(r.code);
      }
    };
    await walk(street);
    for (const code of grids.filter((g) => g !== gridCode)) {
      const res = await fetch(`${baseUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `gw-${code}`, password: demoPassword }),
      });
      if (res.status === 200) {
        otherGrid = code;
        otherWorker = `gw-${code}`;
        break;
      }
    }
    expect(otherWorker, 'another worker of the street').toBeDefined();
    const at = async (code: string) => {
      const region = await get<{ centroid: [number, number] }>(streetToken, `/api/regions/${code}`);
      return { longitude: region.centroid[0], latitude: region.centroid[1], accuracy: 8 };
    };
    centre = await at(gridCode);
    otherCentre = await at(otherGrid);
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function signIn(context: BrowserContext, username: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await page.goto('/field/');
    await page.getByLabel('用户名').fill(username);
    await page.getByLabel('密码').fill(demoPassword);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByTestId('my-grid').first().waitFor({ timeout: 60_000 });
    // the staff stream is open
    await expect
      .poll(() => page.getByTestId('live').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('live');
    return page;
  }

  async function network(context: BrowserContext, cdp: CDPSession, offline: boolean): Promise<void> {
    await cdp.send('Network.emulateNetworkConditions', {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await context.setOffline(offline);
  }

  /** A screenshot from the top of the screen (a click may have scrolled it). */
  async function shot(page: Page, name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, name);
  }

  const syncState = async (page: Page) => (await page.getByTestId('sync-state').textContent()) ?? '';
  const banner = (page: Page, id: number) =>
    page.locator(`[data-testid=alert-banner][data-alert-id="${id}"]`);

  async function createAlert(title: string): Promise<number> {
    const alert = await call<{ id: number }>(streetToken, 'POST', '/api/alerts', {
      clientId: randomUUID(),
      kind: 'missing_person',
      title,
      description: '男，78 岁，身穿蓝色棉衣，灰色裤子，患阿尔茨海默症，走失时拄拐杖。',
      regionCode: street,
      lastSeen: {
        place: '中山路与红旗街交口',
        at: new Date(Date.now() - 3600_000).toISOString(),
        location: { lng: centre.longitude, lat: centre.latitude },
      },
    });
    return alert.id;
  }

  it('two phones see an alert live; one acknowledges, the other reports a sighting; closing removes both banners', async () => {
    const c1 = await newPhoneContext(browser, baseUrl, centre);
    const c2 = await newPhoneContext(browser, baseUrl, otherCentre);
    const p1 = await signIn(c1, 'demo-worker');
    const p2 = await signIn(c2, otherWorker);
    await p2.goto('/field/#/report');

    const title = `走失老人-${tag}`;
    const id = await createAlert(title);
    // both phones, no reload
    await banner(p1, id).waitFor({ timeout: 20_000 });
    await banner(p2, id).waitFor({ timeout: 20_000 });
    expect(await banner(p1, id).textContent()).toContain(title);
    expect(await banner(p1, id).textContent()).toContain('中山路与红旗街交口');

    // the photo comes after the alert (the sender uploads it); it shows once the alert is fetched again
    const photo = await sharp({
      create: { width: 480, height: 640, channels: 3, background: '#4a6fa5' },
    })
      .composite([
        {
          input: Buffer.from(
            '<svg width="480" height="640"><circle cx="240" cy="220" r="120" fill="#f1c27d"/>' +
              '<rect x="120" y="360" width="240" height="280" fill="#1f3b73"/></svg>',
          ),
        },
      ])
      .jpeg()
      .toBuffer();
    await call(streetToken, 'POST', `/api/alerts/${id}/photo`, photo);

    // phone 1 opens the alert and acknowledges for its grid
    await banner(p1, id).getByTestId('alert-open').click();
    await p1.getByTestId('alert-page').waitFor();
    await p1.locator(`[data-testid=alert-ack][data-grid="${gridCode}"]`).click();
    await p1
      .locator(`[data-testid=alert-grid][data-grid="${gridCode}"] [data-testid=alert-acked]`)
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => syncState(p1), { timeout: 30_000 }).toBe('已全部同步');
    await p1.locator('.alert-photo').waitFor({ timeout: 20_000 });
    await shot(p1, 'field-alert-page-ack');

    // phone 2 (on another screen) sees the banner with the photo, then reports a sighting with its location
    await banner(p2, id).getByTestId('alert-banner-photo').waitFor({ timeout: 20_000 });
    await screenshot(p2, 'field-alert-banner');
    await banner(p2, id).getByTestId('alert-open').click();
    const note = `在菜市场门口看到疑似走失老人 ${tag}`;
    await p2.getByLabel('线索描述').fill(note);
    await expect.poll(() => p2.getByTestId('sighting-gps').textContent()).toContain('精度');
    await p2.getByTestId('sighting-photo-input').setInputFiles({
      name: 'sighting.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    await p2.getByTestId('sighting-photo').waitFor();
    await p2.getByTestId('sighting-submit').click();
    await expect.poll(() => p2.getByRole('status').textContent()).toContain('已保存待同步');
    await expect.poll(() => syncState(p2), { timeout: 30_000 }).toBe('已全部同步');
    await p2
      .locator('[data-testid=sighting]:not([data-pending])', { hasText: note })
      .waitFor({ timeout: 20_000 });
    await screenshot(p2, 'field-alert-sighting');

    // the server has both
    const detail = await get<AlertDetail>(streetToken, `/api/alerts/${id}`);
    expect(detail.grids.find((g) => g.gridCode === gridCode)!.acknowledgedAt).not.toBeNull();
    expect(detail.grids.filter((g) => g.acknowledgedAt)).toHaveLength(1);
    const sightings = detail.sightings.filter((s) => s.note === note);
    expect(sightings).toHaveLength(1);
    expect(sightings[0]!.location.lng).toBeCloseTo(otherCentre.longitude, 4);
    expect(sightings[0]!.location.lat).toBeCloseTo(otherCentre.latitude, 4);
    await expect
      .poll(async () => {
        const d = await get<{ sightings: { note: string; hasPhoto: boolean }[] }>(
          streetToken,
          `/api/alerts/${id}`,
        );
        return d.sightings.find((s) => s.note === note)?.hasPhoto;
      })
      .toBe(true);
    // phone 1 sees the sighting live on its alert page
    await p1.locator('[data-testid=sighting]', { hasText: note }).waitFor({ timeout: 20_000 });

    // closed: found → both banners go live, the page shows the outcome without the photo
    await p1.goto('/field/#/tasks');
    await call(streetToken, 'POST', `/api/alerts/${id}/close`, { outcome: 'found', note: '已在菜市场找到' });
    await banner(p1, id).waitFor({ state: 'detached', timeout: 20_000 });
    await banner(p2, id).waitFor({ state: 'detached', timeout: 20_000 });
    await expect
      .poll(() => p2.getByTestId('alert-outcome').textContent(), { timeout: 20_000 })
      .toContain('已找到');
    expect(await p2.locator('.alert-photo').count()).toBe(0);
    expect(await p2.getByTestId('sighting-form').count()).toBe(0);
    expect(await p2.getByTestId('alert-ack').count()).toBe(0);
    await shot(p2, 'field-alert-closed');
    await screenshot(p1, 'field-alert-gone');
    await c1.close();
    await c2.close();
  });

  it('a notice to the street appears in 我的任务 live; 已转达 reaches the server’s statistics', async () => {
    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-worker');
    // unread notices the worker already has (earlier flows may have sent some), from the server, not from a screen
    // that may still be loading
    const unreadBefore = (await get<{ unread: number }>(await token('demo-worker'), '/api/notices/mine'))
      .unread;
    await expect.poll(() => page.getByTestId('notice-unread').textContent()).toBe(String(unreadBefore));
    const title = `冬季防火安全通知-${tag}`;
    const notice = await call<{ id: number }>(streetToken, 'POST', '/api/notices', {
      clientId: randomUUID(),
      title,
      body: '请各网格员向居民转达：\n1. 不私拉乱接电线；\n2. 楼道内不停放电动自行车；\n3. 发现火情拨打 119。',
      target: { kind: 'region', regionCode: street },
    });
    const item = page.locator(`[data-testid=notice-item][data-notice-id="${notice.id}"]`);
    await item.waitFor({ timeout: 20_000 });
    expect(await item.textContent()).toContain('未读');
    await expect.poll(() => page.getByTestId('notice-unread').textContent()).toBe(String(unreadBefore + 1));
    await screenshot(page, 'field-notice-tasks');

    await item.getByRole('link').click();
    await page.getByTestId('notice-page').waitFor();
    expect(await page.getByTestId('notice-body').textContent()).toContain('电动自行车');
    await page.locator(`[data-testid=notice-ack][data-grid="${gridCode}"]`).click();
    await page
      .locator(`[data-testid=notice-grid][data-grid="${gridCode}"] [data-testid=notice-acked]`)
      .waitFor();
    await expect.poll(() => syncState(page), { timeout: 30_000 }).toBe('已全部同步');
    await expect
      .poll(() => page.locator(`[data-testid=notice-grid][data-grid="${gridCode}"]`).textContent(), {
        timeout: 20_000,
      })
      .not.toContain('待同步');
    await screenshot(page, 'field-notice-page');

    const stats = await get<{ read: number; byGrid: { gridCode: string; acknowledgedAt: string | null }[] }>(
      streetToken,
      `/api/notices/${notice.id}/stats`,
    );
    expect(stats.byGrid.find((g) => g.gridCode === gridCode)!.acknowledgedAt).not.toBeNull();
    expect(stats.read).toBeGreaterThanOrEqual(1);
    // read and relayed: it leaves 待转达通知
    await page.goto('/field/#/tasks');
    await item.waitFor({ state: 'detached', timeout: 20_000 });
    await context.close();
  });

  it('an acknowledgement made offline arrives once after reconnecting', async () => {
    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-worker');
    const title = `紧急协查离线确认-${tag}`;
    const id = await createAlert(title);
    await banner(page, id).waitFor({ timeout: 20_000 });
    await banner(page, id).getByTestId('alert-open').click();
    await page.getByTestId('alert-page').waitFor();

    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await network(context, cdp, true);
    await expect.poll(() => page.getByTestId('live').getAttribute('data-state')).not.toBe('live');
    await page.locator(`[data-testid=alert-ack][data-grid="${gridCode}"]`).click();
    await expect
      .poll(() => page.locator(`[data-testid=alert-grid][data-grid="${gridCode}"]`).textContent())
      .toContain('待同步');
    await expect.poll(() => syncState(page)).toContain('1 条待同步');
    // the banner stays offline (cached)
    expect(await banner(page, id).count()).toBe(1);
    await shot(page, 'field-alert-offline-ack');
    let detail = await get<AlertDetail>(streetToken, `/api/alerts/${id}`);
    expect(detail.grids.find((g) => g.gridCode === gridCode)!.acknowledgedAt).toBeNull();

    await network(context, cdp, false);
    await expect.poll(() => syncState(page), { timeout: 60_000, interval: 500 }).toBe('已全部同步');
    await expect
      .poll(() => page.getByTestId('live').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('live');
    detail = await get<AlertDetail>(streetToken, `/api/alerts/${id}`);
    expect(detail.grids.filter((g) => g.acknowledgedAt).map((g) => g.gridCode)).toEqual([gridCode]);
    const sends = await page.evaluate(
      (itemId) =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open('wangge-field');
          open.onerror = () => reject(new Error(String(open.error)));
          open.onsuccess = () => {
            const req = open.result.transaction('outbox', 'readonly').objectStore('outbox').get(itemId);
            req.onsuccess = () => resolve((req.result as { sends: number }).sends);
            req.onerror = () => reject(new Error(String(req.error)));
          };
        }),
      `alert-ack:${id}:${gridCode}`,
    );
    expect(sends).toBe(1);
    await page
      .locator(`[data-testid=alert-grid][data-grid="${gridCode}"]`)
      .filter({ hasNotText: '待同步' })
      .waitFor({ timeout: 20_000 });
    await call(streetToken, 'POST', `/api/alerts/${id}/close`, { outcome: 'lifted' });
    await expect
      .poll(() => page.getByTestId('alert-outcome').textContent(), { timeout: 20_000 })
      .toContain('已解除');
    await context.close();
  });
});
