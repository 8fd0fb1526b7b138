import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  artifactsDir,
  browserAvailable,
  demoPassword,
  launchBrowser,
  newPhoneContext,
  screenshot,
} from './browser.ts';

/**
 * The residents' pages (居民端 H5, issue 7) on a phone, without an account: a grid's page with its notices and
 * alerts (live), phone verification with the code the embedded SMS sender writes to the server log, 随手拍 with a
 * photo, 我的心愿, 我的上报 and rating, another phone refused (404), and a poll voted once.
 */
describe.runIf(browserAvailable())('resident pages (居民端)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  const tag = randomUUID().slice(0, 6);
  // the log of the server this run drives (e2e/src/server.ts)
  const logFile = path.join(artifactsDir, `server-${process.env.DATABASE_URL ? 'postgres' : 'pglite'}.log`);

  async function token(username: string): Promise<string> {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: demoPassword }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }
  async function call<T>(
    method: string,
    url: string,
    options: { bearer?: string; resident?: string; body?: unknown; raw?: Buffer } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.resident) headers['x-resident-token'] = options.resident;
    let body: BodyInit | undefined;
    if (options.raw) {
      headers['content-type'] = 'image/jpeg';
      body = new Uint8Array(options.raw);
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(`${baseUrl}${url}`, { method, headers, body });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json as T };
  }

  /** A phone number of this run (not a demo resident's; its last 4 digits find its code in the log). */
  const phoneStem = `139${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`;
  function phoneNumber(n: number): string {
    return `${phoneStem}${String(Math.floor(Math.random() * 1e3)).padStart(3, '0')}${n}`;
  }

  /**
   * The code the embedded SMS sender logged for this phone (only its last 4 digits beside it, masked): the last
   * one in the server log.
   */
  async function codeFromLog(phone: string): Promise<string> {
    const to = `"to":"*******${phone.slice(-4)}"`;
    let found: string | undefined;
    await expect
      .poll(
        () => {
          const line = readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((l) => l.includes(to) && l.includes('verificationCode'))
            .at(-1);
          found = line ? /"verificationCode":"(\d{6})"/.exec(line)?.[1] : undefined;
          return found;
        },
        { timeout: 20_000, message: `the code for *******${phone.slice(-4)} in ${logFile}` },
      )
      .toMatch(/^\d{6}$/);
    return found!;
  }
  /** A button of the tab bar at the bottom. */
  const tab = (p: Page, name: string) => p.getByRole('navigation').getByRole('button', { name });

  /** A verified phone through the API (for the second phone). */
  async function verifyByApi(phone: string): Promise<string> {
    const sent = await call<{ phone: string }>('POST', '/api/resident/codes', { body: { phone } });
    expect(sent.status).toBe(200);
    expect(sent.body.phone).not.toContain(phone);
    const code = await codeFromLog(phone);
    const verified = await call<{ token: string }>('POST', '/api/resident/verify', { body: { phone, code } });
    expect(verified.status).toBe(200);
    return verified.body.token;
  }

  let centre: string;
  let worker: string;
  let gridCode: string;
  let communityCode: string;
  let position: { latitude: number; longitude: number; accuracy: number };
  let noticeTitle: string;
  let context: BrowserContext;
  let page: Page;
  let residentToken: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    centre = await token('demo-city');
    worker = await token('demo-worker');
    const me = await call<{ roles: { role: string; regionCode: string }[] }>('GET', '/api/me', {
      bearer: worker,
    });
    gridCode = me.body.roles.find((r) => r.role === 'grid_worker')!.regionCode;
    const region = await call<{ centroid: [number, number]; parent: string }>(
      'GET',
      `/api/regions/${gridCode}`,
      {
        bearer: worker,
      },
    );
    communityCode = region.body.parent;
    position = { longitude: region.body.centroid[0], latitude: region.body.centroid[1], accuracy: 12 };
    // a public notice for the residents of the grid's community
    noticeTitle = `停水通知 ${tag}`;
    const notice = await call('POST', '/api/notices', {
      bearer: centre,
      body: {
        clientId: randomUUID(),
        title: noticeTitle,
        body: '因管网维修，本周六 8:00–14:00 小区停水，请提前储水。',
        target: { kind: 'residents', regionCode: communityCode },
      },
    });
    expect(notice.status, JSON.stringify(notice.body)).toBe(201);
    context = await newPhoneContext(browser, baseUrl, position);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('opens the grid page without an account: notices, the grid worker, and alerts live (found: no photo)', async () => {
    page = await context.newPage();
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await page.goto(`/r/${gridCode}`);
    await page.getByTestId('grid-page').waitFor();
    await expect.poll(() => page.getByTestId('notices').textContent()).toContain(noticeTitle);
    expect(await page.locator('.hero').textContent()).toContain('网格员');
    await expect.poll(() => page.getByTestId('grid-page').getAttribute('data-live')).toBe('open');
    await screenshot(page, 'resident-grid');

    // a missing-person alert reaches the open page over the stream, in red with its photo
    const alertTitle = `寻找走失老人 ${tag}`;
    const alert = await call<{ id: number }>('POST', '/api/alerts', {
      bearer: centre,
      body: {
        clientId: randomUUID(),
        kind: 'missing_person',
        title: alertTitle,
        description: '男，78 岁，身高约 170 cm，穿灰色外套，患有阿尔茨海默病。',
        regionCode: communityCode,
        lastSeen: { place: '光复路与长安路交口', at: new Date(Date.now() - 3600_000).toISOString() },
      },
    });
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    const portrait = await sharp({
      create: { width: 300, height: 400, channels: 3, background: { r: 120, g: 130, b: 150 } },
    })
      .jpeg()
      .toBuffer();
    const photo = await call('POST', `/api/alerts/${alert.body.id}/photo`, { bearer: centre, raw: portrait });
    expect(photo.status, JSON.stringify(photo.body)).toBe(200);
    const card = page.getByTestId('alert-open').filter({ hasText: alertTitle });
    // the photo came after the create event: reload once if the live refresh was earlier than the photo
    await card.waitFor({ timeout: 20_000 });
    if ((await card.locator('img').count()) === 0) await page.reload();
    await card.locator('img').waitFor();
    expect(await card.textContent()).toContain('光复路与长安路交口');
    await screenshot(page, 'resident-alert');

    // found: the page follows live, the alert shows as 已找到 without the photo
    const closed = await call('POST', `/api/alerts/${alert.body.id}/close`, {
      bearer: centre,
      body: { outcome: 'found' },
    });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    const done = page.getByTestId('alert-closed').filter({ hasText: alertTitle });
    await done.waitFor({ timeout: 20_000 });
    expect(await done.textContent()).toContain('已找到');
    expect(await card.count()).toBe(0);
    expect(await page.locator(`img[src*="/api/public/alerts/${alert.body.id}/"]`).count()).toBe(0);
    await screenshot(page, 'resident-alert-found');
  });

  it('verifies a phone by code (wrong code refused), reports a problem with a photo and makes a wish', async () => {
    const phone = phoneNumber(1);
    await page.getByRole('button', { name: '随手拍' }).first().click();
    await page.waitForURL(`**/r/${gridCode}/verify?next=report`);
    await page.getByLabel('手机号').fill('12345');
    await page.getByRole('button', { name: '获取验证码' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('请输入正确的手机号');
    await page.getByLabel('手机号').fill(phone);
    // a code was just sent to this phone (another tab): the server's 429 is said as it is
    expect((await call('POST', '/api/resident/codes', { body: { phone } })).status).toBe(200);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('验证码已发送,请 60 秒后再试');
    await screenshot(page, 'resident-verify-429');
    const code = await codeFromLog(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('验证码').fill(wrong);
    await page.getByRole('button', { name: '验证', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('验证码错误');
    await screenshot(page, 'resident-verify');
    await page.getByLabel('验证码').fill(code);
    await page.getByRole('button', { name: '验证', exact: true }).click();
    await page.waitForURL(`**/r/${gridCode}/report`);
    residentToken = await page.evaluate(
      () => (JSON.parse(localStorage.getItem('wangge.resident.token')!) as { token: string }).token,
    );
    // the phone is kept masked only
    expect(await page.evaluate(() => localStorage.getItem('wangge.resident.token'))).not.toContain(phone);

    // 随手拍: a photo (shrunk on the phone), the place by GPS with its accuracy, text
    await expect.poll(() => page.getByTestId('fix').textContent()).toContain('±12');
    const big = await sharp({
      create: { width: 3200, height: 2400, channels: 3, background: { r: 90, g: 140, b: 60 } },
    })
      .jpeg()
      .toBuffer();
    await page
      .getByLabel(/拍照或选择照片/)
      .setInputFiles({ name: 'road.jpg', mimeType: 'image/jpeg', buffer: big });
    await page.locator('img.preview').waitFor();
    await page.getByLabel('标题').fill(`路灯不亮 ${tag}`);
    await page.getByLabel('问题描述').fill('小区 3 号楼前的路灯连续三晚不亮，夜里行人看不清路。');
    await page.getByLabel('详细地址').fill('3 号楼前');
    await screenshot(page, 'resident-report');
    const upload = page.waitForResponse((r) => /\/api\/resident\/reports\/\d+\/photos(\?|$)/.test(r.url()));
    // a double tap makes one case
    await page.getByRole('button', { name: '提交' }).dblclick();
    const uploaded = await upload;
    expect(uploaded.status()).toBe(201);
    const photo = (await uploaded.json()) as { id: number; width: number; height: number };
    expect(Math.max(photo.width, photo.height)).toBeLessThanOrEqual(1600);
    await page.getByTestId('report-done').waitFor();
    const serial = await page.getByTestId('serial').textContent();
    await screenshot(page, 'resident-report-done');

    const mine = await call<{ items: { caseId: number; serial: string; kind: string }[] }>(
      'GET',
      '/api/resident/reports',
      { resident: residentToken },
    );
    expect(mine.body.items.filter((i) => i.serial === serial)).toHaveLength(1);
    expect(mine.body.items).toHaveLength(1);
    const reportId = mine.body.items[0]!.caseId;
    const reported = await call<{ channel: string; grid: { code: string }; address: string }>(
      'GET',
      `/api/cases/${reportId}`,
      { bearer: centre },
    );
    expect(reported.body.channel).toBe('resident');
    expect(reported.body.grid.code).toBe(gridCode);
    const stored = await fetch(`${baseUrl}/api/cases/${reportId}/photos/${photo.id}`, {
      headers: { authorization: `Bearer ${centre}` },
    });
    expect(stored.status).toBe(200);

    // 我的心愿
    await tab(page, '我的心愿').click();
    await page.waitForURL(`**/r/${gridCode}/wish`);
    await page.getByLabel('标题').fill(`增设健身器材 ${tag}`);
    await page.getByLabel('心愿内容').fill('希望在小区广场增设几件老年人健身器材。');
    await expect.poll(() => page.getByTestId('fix').textContent()).toContain('±12');
    await screenshot(page, 'resident-wish');
    // the first answer is lost on the way back (the case is made): the retry with the same client id makes no second one
    await page.route(
      '**/api/resident/wishes',
      async (route) => {
        await route.fetch();
        await route.abort('failed');
      },
      { times: 1 },
    );
    await page.getByRole('button', { name: '提交' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('网络异常');
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByTestId('report-done').waitFor();
    const wishes = await call<{ items: { caseId: number; kind: string }[] }>('GET', '/api/resident/reports', {
      resident: residentToken,
    });
    expect(wishes.body.items.filter((i) => i.kind === 'wish')).toHaveLength(1);
    const wish = wishes.body.items.find((i) => i.kind === 'wish')!;
    const wishCase = await call<{ channel: string }>('GET', `/api/cases/${wish.caseId}`, { bearer: centre });
    expect(wishCase.body.channel).toBe('wish');
  });

  it('lists my reports; a closed one is rated here, and another phone gets 404 for it', async () => {
    // a third report of this phone, fixed on the spot by the grid worker (closed): the form offers a rating
    const taxonomy = await call<{
      categories: { items: { code: string; fixOnSpot: boolean; active: boolean }[] }[];
    }>('GET', '/api/taxonomy', { bearer: worker });
    const fixable = taxonomy.body.categories.flatMap((c) => c.items).find((i) => i.active && i.fixOnSpot)!;
    const quick = await call<{ caseId: number }>('POST', '/api/resident/reports', {
      resident: residentToken,
      body: {
        clientId: randomUUID(),
        title: `垃圾满溢 ${tag}`,
        description: '垃圾桶满了',
        location: { lng: position.longitude, lat: position.latitude },
        categoryCode: fixable.code,
      },
    });
    expect(quick.status, JSON.stringify(quick.body)).toBe(201);
    const fixed = await call('POST', `/api/cases/${quick.body.caseId}/actions/fixOnSpot`, {
      bearer: worker,
      body: { result: '已清运' },
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);

    await tab(page, '我的上报').click();
    await page.waitForURL(`**/r/${gridCode}/mine`);
    const items = page.getByTestId('my-report');
    await expect.poll(() => items.count()).toBe(3);
    expect(await page.getByTestId('my-reports').textContent()).toContain(`路灯不亮 ${tag}`);
    // only the closed one offers a rating
    await expect.poll(() => page.getByTestId('rate-form').count()).toBe(1);
    const closedItem = page.locator(`[data-case="${quick.body.caseId}"]`);
    expect(await closedItem.getByTestId('rate-form').count()).toBe(1);
    await screenshot(page, 'resident-mine');

    // another phone cannot rate it (404, not 403), nor see it among its reports
    const other = await verifyByApi(phoneNumber(2));
    const refused = await call<{ message: string }>(
      'POST',
      `/api/resident/reports/${quick.body.caseId}/rate`,
      {
        resident: other,
        body: { evaluation: 'dissatisfied' },
      },
    );
    expect(refused.status).toBe(404);
    const othersList = await call<{ items: unknown[] }>('GET', '/api/resident/reports', { resident: other });
    expect(othersList.body.items).toHaveLength(0);

    await closedItem.getByText('基本满意').click();
    await closedItem.getByLabel('评价内容').fill('清运及时，谢谢');
    await screenshot(page, 'resident-rate');
    await closedItem.getByRole('button', { name: '提交评价' }).click();
    await expect.poll(() => closedItem.textContent()).toContain('已评价：基本满意');
    expect(await page.getByTestId('rate-form').count()).toBe(0);
    const rated = await call<{ status: string; evaluation: string }>(
      'GET',
      `/api/cases/${quick.body.caseId}`,
      {
        bearer: centre,
      },
    );
    expect(rated.body).toMatchObject({ status: 'evaluated', evaluation: 'basically_satisfied' });
    await screenshot(page, 'resident-rated');
  });

  it('votes in a poll once: results as bars, and a second vote is refused and said so', async () => {
    const question = `小区广场夜间照明改造方案 ${tag}`;
    const poll = await call<{ id: number }>('POST', '/api/polls', {
      bearer: centre,
      body: {
        clientId: randomUUID(),
        question,
        options: ['加装路灯', '更换为节能灯', '维持现状'],
        regionCode: communityCode,
        openUntil: new Date(Date.now() + 3 * 86400_000).toISOString(),
      },
    });
    expect(poll.status, JSON.stringify(poll.body)).toBe(201);
    await tab(page, '网格主页').click();
    await page.waitForURL(`**/r/${gridCode}`);
    const card = page.getByTestId('poll').filter({ hasText: question });
    await card.waitFor();
    await card.getByLabel('更换为节能灯').check();
    await screenshot(page, 'resident-poll');
    await card.getByRole('button', { name: '提交投票' }).click();
    await expect.poll(() => card.getByRole('status').textContent()).toContain('您已投票');
    await expect.poll(() => card.getByRole('meter').count()).toBe(3);
    expect(await card.getByRole('meter', { name: '更换为节能灯' }).getAttribute('aria-valuenow')).toBe('100');
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'resident-poll-voted');

    // the same phone on another browser (its own storage, the same token): the server refuses the second vote
    const again = await newPhoneContext(browser, baseUrl, position);
    await again.addInitScript(
      (value) => localStorage.setItem('wangge.resident.token', value),
      (await page.evaluate(() => localStorage.getItem('wangge.resident.token')))!,
    );
    const second = await again.newPage();
    await second.goto(`/r/${gridCode}`);
    const card2 = second.getByTestId('poll').filter({ hasText: question });
    await card2.getByLabel('加装路灯').check();
    await card2.getByRole('button', { name: '提交投票' }).click();
    await expect.poll(() => card2.getByRole('alert').textContent()).toContain('已投过票');
    // the results are shown, with the one vote counted once
    await expect.poll(() => card2.getByRole('meter').count()).toBe(3);
    const publicPoll = await call<{ total: number; counts: number[] }>(
      'GET',
      `/api/public/polls/${poll.body.id}`,
    );
    expect(publicPoll.body).toMatchObject({ total: 1, counts: [0, 1, 0] });
    await card2.scrollIntoViewIfNeeded();
    await screenshot(second, 'resident-poll-refused');
    await again.close();
  });

  it('a phone without location permission reports with a typed address: the case is in the page’s grid', async () => {
    // no geolocation permission (WeChat's browser denied it, or indoors): the form says so and takes the address
    const denied = await browser.newContext({
      baseURL: baseUrl,
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const verified = await call<{ token: string; expiresAt: string; phone: string }>(
      'POST',
      '/api/resident/verify',
      {
        body: await (async () => {
          const phone = phoneNumber(3);
          expect((await call('POST', '/api/resident/codes', { body: { phone } })).status).toBe(200);
          return { phone, code: await codeFromLog(phone) };
        })(),
      },
    );
    expect(verified.status).toBe(200);
    await denied.addInitScript(
      (value) => localStorage.setItem('wangge.resident.token', value),
      JSON.stringify(verified.body),
    );
    const phonePage = await denied.newPage();
    phonePage.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await phonePage.goto(`/r/${gridCode}/report`);
    await phonePage.getByTestId('no-fix').waitFor();
    expect(await phonePage.getByTestId('by-grid').textContent()).toContain('将按本网格登记位置');
    const title = `楼道灯坏了 ${tag}`;
    await phonePage.getByLabel('标题').fill(title);
    await phonePage.getByLabel('问题描述').fill('5 号楼 2 单元楼道灯不亮，老人上下楼不方便。');
    // the address is required now
    await phonePage.getByRole('button', { name: '提交' }).click();
    await expect.poll(() => phonePage.getByRole('alert').textContent()).toContain('请填写详细地址');
    await phonePage.getByLabel(/详细地址/).fill('5 号楼 2 单元');
    await screenshot(phonePage, 'resident-report-no-gps');
    await phonePage.getByRole('button', { name: '提交' }).click();
    await phonePage.getByTestId('report-done').waitFor();
    const serial = await phonePage.getByTestId('serial').textContent();
    const mine = await call<{ items: { caseId: number; serial: string; gridCode: string }[] }>(
      'GET',
      '/api/resident/reports',
      { resident: verified.body.token },
    );
    const item = mine.body.items.find((i) => i.serial === serial)!;
    expect(item.gridCode).toBe(gridCode);
    const reported = await call<{ channel: string; grid: { code: string }; address: string; title: string }>(
      'GET',
      `/api/cases/${item.caseId}`,
      { bearer: centre },
    );
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({ channel: 'resident', title, address: '5 号楼 2 单元' });
    expect(reported.body.grid.code).toBe(gridCode);
    await denied.close();
  });

  it('switches to English', async () => {
    await page.getByRole('button', { name: /语言/ }).click();
    await page.getByRole('button', { name: 'Report a problem' }).first().waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'resident-grid-en');
    await page.getByRole('button', { name: /Language/ }).click();
    await context.close();
  });
});
