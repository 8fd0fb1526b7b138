import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

interface CaseItem {
  id: number;
  serial: string;
  gridCode: string;
  point: [number, number] | null;
}
interface TriageItem {
  id: number;
  workOrderNumber: string | null;
  reason: string;
  order: { callerPhoneMasked: string | null };
}
interface Taxonomy {
  categories: { code: string; active: boolean; items: { code: string; nameZh: string; active: boolean }[] }[];
}

async function getJson<T>(page: Page, url: string): Promise<T> {
  const response = await page.request.get(url);
  expect(response.status(), `${url}: ${await response.text()}`).toBe(200);
  return (await response.json()) as T;
}

/** `YYYY-MM-DD HH:mm` in China time, as hotline files write the call time. */
function chinaTime(date: Date): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Shanghai',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

describe.runIf(browserAvailable())('hotline exchange 热线工单 page', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a hotline operator imports a CSV, then resolves the triaged order into a case', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-hotline');
    // Points inside the operator's area: where existing cases are.
    const { items: cases } = await getJson<{ items: CaseItem[] }>(page, '/api/cases?state=all&limit=20');
    const located = cases.filter((c) => c.point !== null);
    expect(located.length).toBeGreaterThan(1);
    const [a, b] = [located[0]!, located[1]!];
    const taxonomy = await getJson<Taxonomy>(page, '/api/taxonomy');
    const item = taxonomy.categories.flatMap((c) => c.items).find((i) => i.code === '0501' && i.active)!;
    expect(item).toBeDefined();

    const stamp = Date.now().toString(36).toUpperCase();
    const numbers = [`E2E${stamp}01`, `E2E${stamp}02`, `E2E${stamp}03`];
    const called = chinaTime(new Date(Date.now() - 3_600_000));
    const csv = [
      '工单编号,来电时间,来电人,来电号码,诉求分类编码,诉求标题,诉求内容,事发地址,经度,纬度,紧急程度',
      // 020300 垃圾清运 and 050200 消防安全 are mapped; 999999 is no classification at all.
      `${numbers[0]},${called},李女士,13800138001,020300,小区垃圾未清运,垃圾桶满溢三天无人清运,幸福路 8 号,${a.point![0]},${a.point![1]},一般`,
      `${numbers[1]},${called},赵先生,13800138002,050200,楼道堆放杂物,消防通道被电动车和杂物堵塞,和平街 3 号,${b.point![0]},${b.point![1]},紧急`,
      `${numbers[2]},${called},钱先生,13800138003,999999,井盖松动,人行道井盖松动有异响,建设路 21 号,${a.point![0]},${a.point![1]},一般`,
    ].join('\r\n');

    // The menu entry, the import tab: template and upload.
    await page.getByRole('menuitem', { name: '热线工单' }).click();
    await page.waitForURL('**/hotline');
    await page.getByTestId('hotline-template').waitFor();
    // The hotline operator maps nothing: no mapping tab.
    expect(await page.getByTestId('hotline-tab-mapping').count()).toBe(0);
    const template = page.waitForEvent('download');
    await page.getByTestId('hotline-template').click();
    expect((await template).suggestedFilename()).toBe('hotline-template.xlsx');
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.getByText('已选择：orders.csv').waitFor();
    expect(await page.getByTestId('hotline-submit').isEnabled()).toBe(true);
    // let the button's colour transition from disabled finish before the picture
    await page.waitForTimeout(400);
    await screenshot(page, 'hotline-import');
    await page.getByTestId('hotline-submit').click();
    const result = page.getByTestId('hotline-result');
    await result.waitFor({ timeout: 30_000 });
    const stat = (id: string) => page.getByTestId(id).locator('.ant-statistic-content-value').textContent();
    expect(await stat('hotline-total')).toBe('3');
    expect(await stat('hotline-created')).toBe('2');
    expect(await stat('hotline-duplicates')).toBe('0');
    expect(await stat('hotline-triaged')).toBe('1');
    const triagedRow = page.getByTestId('hotline-triaged-rows').locator('tbody tr.ant-table-row');
    expect(await triagedRow.count()).toBe(1);
    await triagedRow.getByText(numbers[2]!).waitFor();
    await triagedRow.getByText('分类未映射').waitFor();
    await screenshot(page, 'hotline-import-result');

    // 待分拣: the order with its masked phone; resolve it with an item and a grid.
    await page.getByRole('button', { name: '去分拣' }).click();
    const row = page.getByTestId(`triage-${numbers[2]}`);
    await row.waitFor();
    expect(await row.getByTestId('triage-phone').textContent()).toContain('*');
    expect(await row.textContent()).not.toContain('13800138003');
    await screenshot(page, 'hotline-triage');
    await row.getByTestId('triage-resolve').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('事项分类').click();
    await dialog.getByLabel('事项分类').fill('0501');
    await page
      .locator('.ant-select-dropdown:visible .ant-select-tree-node-content-wrapper', { hasText: item.nameZh })
      .first()
      .click();
    await dialog.getByLabel('网格代码（可选）').fill(a.gridCode);
    await dialog.getByTestId('resolve-map').locator('[data-map-status="ready"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'hotline-resolve');
    await dialog.getByRole('button', { name: /立\s*案/ }).click();
    const resolved = page.getByTestId('hotline-resolved');
    await resolved.waitFor({ timeout: 30_000 });
    const link = resolved.getByTestId('hotline-resolved-case');
    const serial = (await link.textContent())!.trim();
    expect(serial).toMatch(/^\d{4}-\d+-\d+$/);
    const href = (await link.getAttribute('href'))!;
    expect(href).toMatch(/^\/cases\/\d+$/);
    const created = await getJson<{
      serial: string;
      channel: string;
      category: { code: string };
      grid: { code: string };
    }>(page, `/api${href}`);
    expect(created).toMatchObject({
      serial,
      channel: 'hotline',
      category: { code: '0501' },
      grid: { code: a.gridCode },
    });
    // The row has left the open queue, on the page and in the API.
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(0);
    const open = await getJson<{ items: TriageItem[] }>(page, '/api/hotline/triage?status=open&limit=500');
    expect(open.items.some((t) => t.workOrderNumber === numbers[2])).toBe(false);
    await screenshot(page, 'hotline-triage-resolved');
    await link.click();
    await page.waitForURL(`**${href}`);
    await page.getByText(serial).first().waitFor();

    // A re-upload of the same orders creates nothing twice.
    await page.goto('/hotline');
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await page.getByTestId('hotline-submit').click();
    await page.getByTestId('hotline-result').waitFor({ timeout: 30_000 });
    expect(await stat('hotline-created')).toBe('0');
    expect(await stat('hotline-duplicates')).toBe('3');
    await context.close();
  });

  it('an administrator maps a hotline classification to an item', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-admin');
    const taxonomy = await getJson<Taxonomy>(page, '/api/taxonomy');
    const item = taxonomy.categories.flatMap((c) => c.items).find((i) => i.code === '0403' && i.active)!;
    await page.goto('/hotline?tab=mapping');
    const table = page.getByTestId('hotline-mapping-table');
    await table.waitFor();
    await screenshot(page, 'hotline-mapping');
    // 040200 公共交通 is unmapped but inherits nothing (040000 has no item): set it, then put it back.
    await page.getByLabel('按编码或名称筛选').fill('0402');
    const row = table.locator('tr', { hasText: '040200' });
    await row.getByText('未映射').waitFor();
    await row.getByTestId('mapping-edit-040200').click();
    await row.getByTestId('mapping-item').click();
    await page.keyboard.type('0403');
    await page
      .locator('.ant-select-dropdown:visible .ant-select-tree-node-content-wrapper', { hasText: item.nameZh })
      .first()
      .click();
    await row.getByRole('button', { name: /保\s*存/ }).click();
    await page.getByText('已保存 040200 公共交通').waitFor();
    await row.getByText(`0403 ${item.nameZh}`).first().waitFor();
    await screenshot(page, 'hotline-mapping-edited');
    const list = await getJson<{ items: { code: string; itemCode: string | null }[] }>(
      page,
      '/api/hotline/classifications',
    );
    expect(list.items.find((c) => c.code === '040200')?.itemCode).toBe('0403');
    const back = await page.request.put('/api/hotline/classifications/040200', {
      data: { name: '公共交通', itemCode: null },
    });
    expect(back.status(), await back.text()).toBe(200);
    await context.close();
  });
});
