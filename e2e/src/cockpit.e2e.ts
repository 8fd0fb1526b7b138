import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

const countKeys = ['accepted', 'filed', 'closed', 'closedOnTime', 'open', 'overdueNow', 'rated', 'satisfied'];
const rateKeys = [
  'filingRate',
  'resolutionRate',
  'closureRate',
  'onTimeClosureRate',
  'reworkRate',
  'satisfactionRate',
];

interface Report {
  counts: Record<string, number>;
  rates: Record<string, { value: number | null; numerator: number; denominator: number }>;
}

/** The region and period the page shows, as it reports them. */
async function shownPeriod(page: Page) {
  const period = page.getByTestId('kpi-period');
  await period.waitFor({ timeout: 30_000 });
  return {
    region: (await period.getAttribute('data-region'))!,
    from: (await period.getAttribute('data-from'))!,
    to: (await period.getAttribute('data-to'))!,
  };
}

/** Differences between the cards and `GET /api/kpis` for the same region and period (empty when they agree). */
async function mismatches(page: Page): Promise<string[]> {
  const { region, from, to } = await shownPeriod(page);
  const response = await page.request.get(`/api/kpis?region=${region}&from=${from}&to=${to}`);
  expect(response.status()).toBe(200);
  const report = (await response.json()) as Report;
  const problems: string[] = [];
  for (const key of countKeys) {
    const text = (await page.getByTestId(`kpi-${key}`).textContent()) ?? '';
    const expected = String(report.counts[key]);
    if (!new RegExp(`(^|\\D)${expected}(\\D|$)`).test(text)) problems.push(`${key}: "${text}" ≠ ${expected}`);
  }
  for (const key of rateKeys) {
    const rate = report.rates[key]!;
    const text = (await page.getByTestId(`kpi-${key}`).textContent()) ?? '';
    const shown = rate.value === null ? '—' : `${(rate.value * 100).toFixed(2)}%`;
    if (!text.includes(shown) || !text.includes(`${rate.numerator} / ${rate.denominator}`))
      problems.push(`${key}: "${text}" ≠ ${shown} (${rate.numerator} / ${rate.denominator})`);
  }
  return problems;
}

describe.runIf(browserAvailable())('cockpit', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a leader lands on the cockpit: cards equal the API, charts draw, the workbook downloads', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-leader');
    await page.waitForURL('**/cockpit**');
    await page.getByTestId('kpi-accepted').waitFor();

    // The leader's district, this month (China dates).
    const shown = await shownPeriod(page);
    expect(shown.region).toBe('230803');
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    expect(shown.from).toBe(`${today.slice(0, 7)}-01`);
    await expect.poll(() => mismatches(page), { timeout: 20_000 }).toEqual([]);

    // Trend, categories and grid heat are drawn on canvases.
    for (const chart of ['chart-trend', 'chart-category', 'chart-heat'])
      await page.getByTestId(chart).locator('canvas').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('department-ranking').locator('tbody tr.ant-table-row').first().waitFor();
    // Overdue cases link to the case page.
    const overdueLink = page.getByTestId('overdue-cases').locator('a[href^="/cases/"]').first();
    await overdueLink.waitFor();
    expect(await overdueLink.getAttribute('href')).toMatch(/^\/cases\/\d+$/);
    await screenshot(page, 'cockpit');

    // Export: an .xlsx workbook (a zip: "PK").
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /导出 Excel/ }).click(),
    ]);
    const file = await download.path();
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect(download.suggestedFilename()).toMatch(/\.xlsx$/);

    // The period is in the URL: this year.
    await page.getByText('本年', { exact: true }).click();
    await page.waitForURL('**/cockpit?*period=year*');
    await expect.poll(async () => (await shownPeriod(page)).from).toBe(`${today.slice(0, 4)}-01-01`);
    await expect.poll(() => mismatches(page), { timeout: 20_000 }).toEqual([]);
    await context.close();
  });

  it('a street operator sees the street, and a custom period from the URL', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    await page.goto('/cockpit');
    await page.getByTestId('kpi-accepted').waitFor();
    expect((await shownPeriod(page)).region).toBe('230803001');
    await expect.poll(() => mismatches(page), { timeout: 20_000 }).toEqual([]);

    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const from = new Date(Date.parse(`${today}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`/cockpit?region=230803001&from=${from}&to=${today}`);
    await expect.poll(async () => (await shownPeriod(page)).from).toBe(from);
    expect((await shownPeriod(page)).to).toBe(today);
    await expect.poll(() => mismatches(page), { timeout: 20_000 }).toEqual([]);
    await page.getByTestId('chart-trend').locator('canvas').first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'cockpit-street');
    await context.close();
  });
});
