import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { repoRoot } from './server.ts';

export const demoPassword = 'demo12345';
export const artifactsDir = path.join(repoRoot, 'e2e/artifacts');

/** Debian's Chromium, as `which chromium` finds it; null when it is not installed. */
export function chromiumPath(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * When Chromium is missing the flows are skipped with a message, unless WANGGE_E2E=1 (set by .ci/run), where a
 * missing browser is an error: CI must run the flows.
 */
export function browserAvailable(): boolean {
  const found = chromiumPath() !== null;
  if (!found && process.env.WANGGE_E2E === '1')
    throw new Error('WANGGE_E2E=1 but chromium is not installed: apt-get install -y chromium');
  if (!found) console.warn('chromium not found: browser flows skipped (apt-get install -y chromium)');
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('chromium not found');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-gl=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** A fresh context (own cookies) at desktop size, Chinese, in China time. */
export async function newContext(browser: Browser, baseUrl: string): Promise<BrowserContext> {
  return browser.newContext({
    baseURL: baseUrl,
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    // as a command centre's browser would be: times on forms are China time
    timezoneId: 'Asia/Shanghai',
  });
}

/** Signs in through the login form, as a person would. */
export async function loginAs(
  context: BrowserContext,
  username: string,
  password = demoPassword,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.getByTestId('current-user').waitFor({ timeout: 30_000 });
  return page;
}

/** A full-page screenshot under e2e/artifacts/ (look at them before calling a screen done). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/**
 * Resolves when the CSS animations inside the element (AntD's modal zoom, upload list motion) have finished, so a
 * screenshot shows the settled UI. An animation cancelled meanwhile (its `finished` rejects with AbortError) is
 * settled too.
 */
export async function animationsSettled(locator: Locator): Promise<void> {
  await locator.evaluate((el) =>
    Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished.catch(() => undefined))),
  );
}

/**
 * A phone (360×740, touch, Chinese, China time) for the field app, with the location permission granted and a
 * position when given.
 */
export async function newPhoneContext(
  browser: Browser,
  baseUrl: string,
  geolocation?: { latitude: number; longitude: number; accuracy?: number },
): Promise<BrowserContext> {
  return browser.newContext({
    baseURL: baseUrl,
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    permissions: ['geolocation'],
    ...(geolocation ? { geolocation } : {}),
  });
}
