import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

describe.runIf(browserAvailable())('login and the frame', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, shows the scope and role, and signs out', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await context.newPage();
    await page.goto('/workbench');
    await page.waitForURL('**/login');
    await screenshot(page, 'login');
    await page.getByLabel('用户名').fill('demo-street');
    await page.getByLabel('密码').fill('wrong-password');
    await page.getByRole('button', { name: /登\s*录/ }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('用户名或密码错误');
    await context.close();

    const context2 = await newContext(browser, baseUrl);
    const signedIn = await loginAs(context2, 'demo-street');
    await expect.poll(() => signedIn.getByTestId('scope').textContent()).toContain('街道');
    expect(await signedIn.getByTestId('current-user').textContent()).toContain('指挥中心坐席');
    await screenshot(signedIn, 'frame-street');
    await signedIn.getByRole('button', { name: /退出登录/ }).click();
    await signedIn.waitForURL('**/login');
    await context2.close();
  });

  it('locks the account after five failures and says so', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await context.newPage();
    await page.goto('/login');
    for (let i = 0; i < 6; i++) {
      await page.getByLabel('用户名').fill('demo-worker2');
      await page.getByLabel('密码').fill(`wrong-${i}`);
      await page.getByRole('button', { name: /登\s*录/ }).click();
      await page.getByRole('alert').waitFor();
    }
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('锁定');
    await screenshot(page, 'login-locked');
    await context.close();
  });
});
