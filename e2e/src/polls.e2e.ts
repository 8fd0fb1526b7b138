import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  animationsSettled,
  artifactsDir,
  browserAvailable,
  demoPassword,
  launchBrowser,
  loginAs,
  newContext,
  screenshot,
} from './browser.ts';

/**
 * Polls in the console (投票, issue 7): the street's centre asks its street's residents a question; two residents
 * (phones verified with the code the embedded SMS sender logs) vote through the resident API from a grid of the
 * street; the poll's page shows the counts without a reload; a second vote from the same phone is refused (409);
 * the centre closes the poll.
 */
describe.runIf(browserAvailable())('polls (投票)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  const tag = randomUUID().slice(0, 6);
  const logFile = path.join(artifactsDir, `server-${process.env.DATABASE_URL ? 'postgres' : 'pglite'}.log`);
  let gridCode: string;

  async function call<T>(
    method: 'GET' | 'POST',
    url: string,
    options: { bearer?: string; resident?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.resident) headers['x-resident-token'] = options.resident;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${url}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** A phone of this run; its last 4 digits find its code in the server log. */
  const phoneStem = `137${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`;
  const phoneNumber = (n: number) =>
    `${phoneStem}${String(Math.floor(Math.random() * 1e3)).padStart(3, '0')}${n}`;

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

  /** 验证手机号 through the resident API: the code from the log, then the resident token. */
  async function verifiedResident(phone: string): Promise<string> {
    expect((await call('POST', '/api/resident/codes', { body: { phone } })).status).toBe(200);
    const code = await codeFromLog(phone);
    const verified = await call<{ token: string }>('POST', '/api/resident/verify', { body: { phone, code } });
    expect(verified.status).toBe(200);
    return verified.body.token;
  }

  beforeAll(async () => {
    browser = await launchBrowser();
    const login = await call<{ token: string }>('POST', '/api/auth/login', {
      body: { username: 'demo-street', password: demoPassword },
    });
    expect(login.status).toBe(200);
    const street = login.body.token;
    const me = await call<{ roles: { role: string; regionCode: string }[] }>('GET', '/api/me', {
      bearer: street,
    });
    // a grid of the street: its first community's first grid
    let code = me.body.roles.find((r) => r.role === 'centre_operator')!.regionCode;
    for (let depth = 0; depth < 3; depth++) {
      const region = await call<{ level: string }>('GET', `/api/regions/${code}`, { bearer: street });
      if (region.body.level === 'grid') break;
      const children = await call<{ items: { code: string }[] }>('GET', `/api/regions/${code}/children`, {
        bearer: street,
      });
      code = children.body.items[0]!.code;
    }
    gridCode = code;
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the street creates a poll; two residents vote; the page shows the counts; a second vote is 409', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    await page.getByRole('menuitem', { name: '投票' }).click();
    await page.waitForURL('**/polls');
    await page.getByTestId('polls-page').waitFor();
    await page.getByTestId('poll-create').click();
    await page.waitForURL('**/polls/new');

    const question = `街心公园改造方案征集 ${tag}`;
    await page.getByLabel('问题').fill(question);
    await page.getByRole('textbox', { name: '选项 1', exact: true }).fill('增设儿童游乐区');
    await page.getByRole('textbox', { name: '选项 2', exact: true }).fill('增设健身器材');
    await page.getByTestId('poll-add-option').click();
    await page.getByRole('textbox', { name: '选项 3', exact: true }).fill('保留绿地，增加座椅');
    // the street is the default area (the centre's own)
    await expect.poll(() => page.locator('.ant-select:has(#poll-region)').textContent()).toContain('街道');
    await animationsSettled(page.getByTestId('poll-create-page'));
    await screenshot(page, 'polls-create');
    await page.getByTestId('poll-submit').click();
    await page.waitForURL(/\/polls\/\d+$/, { timeout: 30_000 });
    const pollId = Number(/\/polls\/(\d+)$/.exec(page.url())![1]);

    await expect.poll(() => page.getByTestId('poll-total').textContent()).toBe('共 0 票');
    expect(await page.getByTestId('poll-option').count()).toBe(3);
    await expect.poll(() => page.getByTestId('poll-resident-link').textContent()).toContain('/r/');
    await animationsSettled(page.getByTestId('poll-page'));
    await screenshot(page, 'polls-detail');

    // two residents vote from a grid of the street, through the resident API
    const first = await verifiedResident(phoneNumber(1));
    const second = await verifiedResident(phoneNumber(2));
    const voted = await call<{ counts: number[] }>('POST', `/api/resident/polls/${pollId}/votes`, {
      resident: first,
      body: { option: 0, gridCode },
    });
    expect(voted.status, JSON.stringify(voted.body)).toBe(200);
    const again = await call<{ counts: number[] }>('POST', `/api/resident/polls/${pollId}/votes`, {
      resident: second,
      body: { option: 2, gridCode },
    });
    expect(again.status).toBe(200);
    expect(again.body.counts).toEqual([1, 0, 1]);
    // the same phone once more: refused
    const twice = await call<{ message: string }>('POST', `/api/resident/polls/${pollId}/votes`, {
      resident: first,
      body: { option: 1, gridCode },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.message).toContain('已投过票');

    // no reload: the open poll's page refetches every 10 s
    await expect
      .poll(() => page.getByTestId('poll-total').textContent(), { timeout: 25_000 })
      .toBe('共 2 票');
    const counts = await page
      .getByTestId('poll-option')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-count')));
    expect(counts).toEqual(['1', '0', '1']);
    await animationsSettled(page.getByTestId('poll-page'));
    await screenshot(page, 'polls-results');

    // the list shows it with its total
    await page.getByRole('menuitem', { name: '投票' }).click();
    await page.waitForURL('**/polls');
    const row = page.getByTestId('polls-table').locator('tr', { hasText: question });
    await row.waitFor();
    expect(await row.textContent()).toContain('进行中');
    await animationsSettled(page.getByTestId('polls-page'));
    await screenshot(page, 'polls-list');

    // close it early
    await row.getByTestId('poll-question').click();
    await page.waitForURL(`**/polls/${pollId}`);
    await page.getByTestId('poll-close').click();
    await page.getByRole('button', { name: '结束投票' }).last().click();
    await expect.poll(() => page.getByTestId('poll-state').textContent()).toBe('已结束');
    expect(await page.getByTestId('poll-close').count()).toBe(0);
    const results = await call<{ open: boolean; total: number }>('GET', `/api/public/polls/${pollId}`);
    expect(results.body).toMatchObject({ open: false, total: 2 });
    await animationsSettled(page.getByTestId('poll-page'));
    await screenshot(page, 'polls-closed');
    await context.close();
  });
});
