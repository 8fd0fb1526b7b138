import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { browserAvailable, demoPassword, launchBrowser, newPhoneContext, screenshot } from './browser.ts';

/**
 * The field app (网格通, issue 6) on a phone: offline reports and visits arriving exactly once, an offline registry
 * edit meeting a change made meanwhile, a patrol, the first load on slow 3G and the grid leader's team view.
 */
describe.runIf(browserAvailable())('field app (网格通)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  const tag = randomUUID().slice(0, 6);

  async function token(username: string): Promise<string> {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: demoPassword }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }
  async function get<T>(tok: string, path: string): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${tok}` } });
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return (await res.json()) as T;
  }

  let workerToken: string;
  let gridCode: string;
  let centre: { latitude: number; longitude: number; accuracy: number };

  beforeAll(async () => {
    browser = await launchBrowser();
    workerToken = await token('demo-worker');
    const me = await get<{ roles: { role: string; regionCode: string }[] }>(workerToken, '/api/me');
    gridCode = me.roles.find((r) => r.role === 'grid_worker')!.regionCode;
    const region = await get<{ centroid: [number, number] }>(workerToken, `/api/regions/${gridCode}`);
    centre = { longitude: region.centroid[0], latitude: region.centroid[1], accuracy: 8 };
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
    return page;
  }

  /** Waits until the service worker controls the page (the shell then loads offline). */
  async function controlled(page: Page): Promise<void> {
    const ok = await page
      .waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 20_000 })
      .then(() => true)
      .catch(() => false);
    if (!ok) {
      await page.reload();
      await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, {
        timeout: 20_000,
      });
    }
  }

  async function network(context: BrowserContext, cdp: CDPSession, offline: boolean): Promise<void> {
    await cdp.send('Network.emulateNetworkConditions', {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    // the service worker is another target: the context switch takes it offline too
    await context.setOffline(offline);
  }

  async function syncState(page: Page): Promise<string> {
    return (await page.getByTestId('sync-state').textContent()) ?? '';
  }

  async function jpeg(color: string, gps = false): Promise<Buffer> {
    let img = sharp({ create: { width: 640, height: 480, channels: 3, background: color } }).jpeg({
      quality: 80,
    });
    if (gps)
      img = img.withExif({
        IFD0: { Make: 'WanggeTest' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '45/1 45/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '126/1 38/1 0/1',
        },
      });
    return img.toBuffer();
  }

  /** The outbox as the page holds it (IndexedDB), for the photo ids of each report. */
  async function outboxItems(
    page: Page,
  ): Promise<{ id: string; kind: string; status: string; progress: unknown }[]> {
    return page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('wangge-field');
          open.onerror = () => reject(new Error(String(open.error)));
          open.onsuccess = () => {
            const tx = open.result.transaction('outbox', 'readonly');
            const req = tx.objectStore('outbox').getAll();
            req.onsuccess = () =>
              resolve(
                (req.result as { id: string; kind: string; status: string; progress: unknown }[]).map(
                  (i) => ({
                    id: i.id,
                    kind: i.kind,
                    status: i.status,
                    progress: i.progress,
                  }),
                ),
              );
            req.onerror = () => reject(new Error(String(req.error)));
          };
        }),
    );
  }

  it('works offline: 3 reports with photos and 2 visits arrive exactly once, and resending everything adds nothing', async () => {
    const taxonomy = await get<{
      categories: { items: { code: string; nameZh: string; fixOnSpot: boolean; active: boolean }[] }[];
    }>(workerToken, '/api/taxonomy');
    const items = taxonomy.categories.flatMap((c) => c.items).filter((i) => i.active);
    const fixable = items.find((i) => i.fixOnSpot);
    const plain = items.filter((i) => !i.fixOnSpot);
    expect(plain.length).toBeGreaterThan(1);

    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-worker');
    await controlled(page);
    await screenshot(page, 'field-tasks');
    // the offline copy and the categories are on the phone
    await page.goto('/field/#/visits');
    await page.getByTestId('household').first().waitFor({ timeout: 30_000 });

    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await network(context, cdp, true);
    await page.reload();
    await page.getByTestId('household').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => syncState(page)).toContain('离线');

    const titles = [`占道经营-${tag}`, `垃圾堆放-${tag}`, `路灯损坏-${tag}`];
    const reports: { item: { code: string; nameZh: string; fixOnSpot: boolean }; fix: boolean }[] = [
      { item: fixable ?? plain[0]!, fix: !!fixable },
      { item: plain[0]!, fix: false },
      { item: plain[1]!, fix: false },
    ];
    for (const [n, title] of titles.entries()) {
      const { item, fix } = reports[n]!;
      await page.goto('/field/#/report');
      await page.getByLabel('搜索分类').fill(item.nameZh);
      await page.getByRole('button', { name: item.nameZh }).first().click();
      await page.getByLabel('标题').fill(title);
      await page.getByLabel('描述').fill(`离线上报 ${n + 1}`);
      await page.getByTestId('photo-input').setInputFiles({
        name: `photo-${n}.jpg`,
        mimeType: 'image/jpeg',
        buffer: await jpeg(['#c0392b', '#27ae60', '#2980b9'][n]!, n === 0),
      });
      await expect.poll(() => page.getByTestId('photo-count').getAttribute('data-count')).toBe('1');
      await expect.poll(() => page.getByTestId('gps').textContent()).toContain('精度');
      if (fix) {
        await page.getByLabel(/现场处置/).check();
        await page.getByLabel('处置结果').fill('已现场劝离');
      }
      if (n === 0) await screenshot(page, 'field-report');
      await page.getByRole('button', { name: '提交' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toContain('已保存待同步');
    }

    const visitNotes = [`走访记录一 ${tag}`, `走访记录二 ${tag}`];
    for (const [n, notes] of visitNotes.entries()) {
      await page.goto('/field/#/visits');
      await page.getByTestId('household').nth(n).getByRole('button', { name: '记录走访' }).click();
      await page.getByLabel('走访类型').selectOption(n === 0 ? 'routine' : 'care');
      await page.getByLabel('走访情况').fill(notes);
      if (n === 1) {
        await page.getByText('养老照护').click();
        await screenshot(page, 'field-visit-form');
      }
      await page.getByRole('button', { name: '保存' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toContain('已保存待同步');
    }
    await screenshot(page, 'field-visits');
    await expect.poll(() => syncState(page)).toContain('5 条待同步');
    await page.goto('/field/#/sync');
    await screenshot(page, 'field-sync-offline');

    await network(context, cdp, false);
    await expect.poll(() => syncState(page), { timeout: 90_000, interval: 500 }).toBe('已全部同步');
    await screenshot(page, 'field-sync-done');

    const offlineCopy = await get<{ households: { id: number }[] }>(
      workerToken,
      `/api/grids/${gridCode}/offline`,
    );
    // today in China (the demo city's older visits are not needed here)
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    async function serverState() {
      const cases = [];
      for (const title of titles) {
        const list = await get<{ items: { id: number; title: string; status: string }[] }>(
          workerToken,
          `/api/cases?state=all&q=${encodeURIComponent(title)}`,
        );
        cases.push(list.items.filter((c) => c.title === title));
      }
      const visits = [];
      for (const household of offlineCopy.households.slice(0, 2)) {
        const list = await get<{ items: { id: number; notes: string }[] }>(
          workerToken,
          `/api/visits?householdId=${household.id}&from=${today}&limit=200`,
        );
        visits.push(...list.items.filter((v) => v.notes.includes(tag)));
      }
      return { cases, visits };
    }
    const first = await serverState();
    expect(first.cases.map((c) => c.length)).toEqual([1, 1, 1]);
    expect(first.visits).toHaveLength(2);
    if (fixable) expect(first.cases[0]![0]!.status).toBe('closed');
    const before = (await outboxItems(page)).filter((i) => i.kind === 'case').map((i) => i.progress);

    await page.getByRole('button', { name: '全部重新发送' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent(), { timeout: 60_000 })
      .toContain('全部重新发送：5');
    await expect.poll(() => syncState(page), { timeout: 60_000 }).toBe('已全部同步');
    const again = await serverState();
    expect(again.cases.map((c) => c.map((x) => x.id))).toEqual(first.cases.map((c) => c.map((x) => x.id)));
    expect(again.visits.map((v) => v.id).sort()).toEqual(first.visits.map((v) => v.id).sort());
    // the same photo ids came back for every upload (a replay returns the first photo)
    const after = (await outboxItems(page)).filter((i) => i.kind === 'case').map((i) => i.progress);
    expect(after).toEqual(before);
    await context.close();
  });

  it('an offline edit of a person meeting a change made meanwhile shows the conflict, and the choice is kept', async () => {
    const offline = await get<{ households: { id: number; members: { id: number; version: number }[] }[] }>(
      workerToken,
      `/api/grids/${gridCode}/offline`,
    );
    const person = offline.households[0]!.members[0]!;
    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-worker');
    await page.goto('/field/#/visits');
    await page.getByTestId('household').first().waitFor({ timeout: 30_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await network(context, cdp, true);

    await page.getByTestId('household').first().getByRole('button', { name: '修改' }).first().click();
    await page.getByLabel('工作单位').fill(`我的单位-${tag}`);
    await page.getByLabel('现住址').fill(`我的住址-${tag}`);
    await screenshot(page, 'field-person-edit');
    await page.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => syncState(page)).toContain('1 条待同步');

    // meanwhile, at the community service station
    const other = await token('demo-community');
    const patch = await fetch(`${baseUrl}/api/persons/${person.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json' },
      body: JSON.stringify({ work: `社区改的单位-${tag}` }),
    });
    expect(patch.status).toBe(200);
    const serverAddress = ((await patch.json()) as { currentAddress: string | null }).currentAddress;

    await network(context, cdp, false);
    await page.goto('/field/#/sync');
    await page.getByTestId('conflict').waitFor({ timeout: 60_000 });
    expect(await syncState(page)).toContain('1 条冲突');
    await expect.poll(() => page.getByTestId('conflict').textContent()).toContain(`社区改的单位-${tag}`);
    const conflict = page.getByTestId('conflict');
    await conflict.getByRole('group', { name: '工作单位' }).getByLabel(/我的/).check();
    await conflict
      .getByRole('group', { name: '现住址' })
      .getByLabel(/服务器/)
      .check();
    await screenshot(page, 'field-conflict');
    await conflict.getByRole('button', { name: '提交选择' }).click();
    await expect.poll(() => syncState(page), { timeout: 60_000 }).toBe('已全部同步');

    const now = await get<{ work: string | null; currentAddress: string | null; version: number }>(
      workerToken,
      `/api/persons/${person.id}`,
    );
    expect(now.work).toBe(`我的单位-${tag}`);
    expect(now.currentAddress).toBe(serverAddress);
    expect(now.version).toBeGreaterThan(person.version + 1);
    await context.close();
  });

  it('records a patrol: positions, stop, duration, distance and the track; the server has it', async () => {
    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-worker');
    await page.goto('/field/#/patrol');
    await page.getByRole('button', { name: /开始巡查/ }).click();
    await page.getByRole('button', { name: '结束巡查' }).waitFor();
    // ≈ 18 m apart, ≥ 1.5 s apart: a brisk walk would be slower, but well under the impossible-speed flag (30 m/s)
    for (let i = 1; i <= 4; i++) {
      await page.waitForTimeout(1500);
      await context.setGeolocation({
        latitude: centre.latitude + i * 0.00016,
        longitude: centre.longitude,
        accuracy: 6,
      });
      await expect
        .poll(() => page.locator('[data-testid=track] circle').count(), { timeout: 15_000 })
        .toBeGreaterThanOrEqual(i);
    }
    await page.waitForTimeout(1200);
    await page.getByRole('button', { name: '结束巡查' }).click();
    await page.getByRole('button', { name: /开始巡查/ }).waitFor();
    await expect.poll(() => syncState(page), { timeout: 60_000 }).toBe('已全部同步');
    const distance = Number((await page.getByTestId('patrol-distance').textContent())!.replace(/\D/g, ''));
    expect(distance).toBeGreaterThan(40);
    expect(await page.getByTestId('patrol-duration').textContent()).toMatch(/^0:00:0[1-9]|^0:00:[1-5]\d/);
    await page.getByTestId('patrol-server').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=track] polygon').first().waitFor();
    await screenshot(page, 'field-patrol');

    const patrols = await get<{
      items: { id: string; endedAt: string | null; pointCount: number; distanceMeters: number }[];
    }>(workerToken, '/api/patrols');
    const done = patrols.items.filter((p) => p.endedAt && p.pointCount >= 4);
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done[0]!.distanceMeters).toBeGreaterThan(40);

    await page.goto('/field/#/diary');
    await page.getByLabel('备注').waitFor();
    // the day's record from the server: this patrol is among its entries
    await page.getByTestId('diary-entry').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('diary-entry').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('巡查')]),
    );
    await screenshot(page, 'field-diary');
    await context.close();
  });

  it('is usable within 6 s on slow 3G (400 kbit/s, 400 ms RTT), first load without cache', async () => {
    const context = await newPhoneContext(browser, baseUrl);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 400,
      downloadThroughput: (400 * 1000) / 8,
      uploadThroughput: (400 * 1000) / 8,
    });
    const started = Date.now();
    await page.goto('/field/', { waitUntil: 'commit' });
    await page.getByLabel('用户名').waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(() => page.getByLabel('用户名').isEnabled(), { interval: 50 }).toBe(true);
    await expect
      .poll(() => page.getByRole('button', { name: '登录' }).isEnabled(), { interval: 50 })
      .toBe(true);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `field app on slow 3G (400 kbit/s, 400 ms RTT): login form usable after ${seconds.toFixed(2)} s`,
    );
    await page.waitForLoadState('load');
    await screenshot(page, 'field-login');
    expect(seconds).toBeLessThanOrEqual(6);
    await context.close();
  });

  it("shows the grid leader's team: compliance rows of their workers", async () => {
    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-gridleader');
    await page.getByRole('link', { name: '团队' }).click();
    await page.getByTestId('compliance-row').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('compliance-row').count()).toBeGreaterThan(0);
    await screenshot(page, 'field-team');
    await context.close();
  });

  it('never sends one account’s unsent items as another account that signs in on the same phone', async () => {
    const context = await newPhoneContext(browser, baseUrl, centre);
    const page = await signIn(context, 'demo-worker');
    await controlled(page);
    await page.goto('/field/#/visits');
    await page.getByTestId('household').first().waitFor({ timeout: 30_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await network(context, cdp, true);
    const notes = `交接前的走访 ${tag}`;
    await page.getByTestId('household').first().getByRole('button', { name: '记录走访' }).click();
    await page.getByLabel('走访情况').fill(notes);
    await page.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => syncState(page)).toContain('1 条待同步');
    // signs out while offline; another worker signs in on this phone once the network is back
    await page.goto('/field/#/sync');
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByLabel('用户名').waitFor();
    await network(context, cdp, false);
    await page.waitForFunction(() => navigator.onLine);
    // a worker of a neighbouring grid (demo-worker2 is locked by the login flow's lockout test)
    const neighbour = `gw-${gridCode.slice(0, -3)}${gridCode.endsWith('002') ? '003' : '002'}`;
    await page.getByLabel('用户名').fill(neighbour);
    await page.getByLabel('密码').fill(demoPassword);
    await page.getByRole('button', { name: '登录' }).click();
    const handover = page.getByTestId('handover');
    await handover.waitFor({ timeout: 30_000 }).catch(async (e: unknown) => {
      await screenshot(page, 'field-handover-failed');
      throw e;
    });
    expect(await handover.textContent()).toContain('1 条记录未同步');
    await screenshot(page, 'field-handover');
    // nothing went out as the neighbour
    const worker2 = await token(neighbour);
    const mine = await get<{ items: { notes: string }[] }>(worker2, '/api/visits?limit=200');
    expect(mine.items.some((v) => v.notes === notes)).toBe(false);
    // back: the first worker signs in again and the visit arrives as theirs
    await page.getByRole('button', { name: '返回，由该用户登录' }).click();
    await page.getByLabel('用户名').fill('demo-worker');
    await page.getByLabel('密码').fill(demoPassword);
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => syncState(page), { timeout: 60_000, interval: 500 }).toBe('已全部同步');
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const visits = await get<{ items: { notes: string; userName: string }[] }>(
      workerToken,
      `/api/visits?grid=${gridCode}&from=${today}&limit=200`,
    );
    expect(visits.items.filter((v) => v.notes === notes)).toHaveLength(1);
    await context.close();
  });
});
