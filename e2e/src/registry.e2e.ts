import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { personExcelColumns, registryExcelSheetNames } from '@wangge/contracts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

interface Me {
  user: { id: number };
  scope: { regionCode: string; level: string }[];
}
interface Building {
  id: number;
  kind: string;
  households: number;
}
interface PersonSummary {
  id: number;
  gridCode: string;
}

async function getJson<T>(page: Page, url: string): Promise<T> {
  const response = await page.request.get(url);
  expect(response.status(), `${url}: ${await response.text()}`).toBe(200);
  return (await response.json()) as T;
}

/** A resident ID number with a right GB 11643 check character (ISO 7064 MOD 11-2). */
function residentId(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11]!;
}

/** The same ID number with a wrong check character. */
function wrongCheck(id: string): string {
  const right = id.slice(-1);
  return id.slice(0, 17) + (right === '0' ? '1' : '0');
}

const maskedId = /^\d{6}\*{8}\d{3}[\dX]$/;

describe.runIf(browserAvailable())('registry 一标三实 pages', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a grid worker walks building → unit → household → person and sees only masked numbers', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-worker');
    const me = await getJson<Me>(page, '/api/me');
    const grid = me.scope.find((s) => s.level === 'grid')!.regionCode;
    // A residential block with households: it has units.
    const { items: buildings } = await getJson<{ items: Building[] }>(page, `/api/grids/${grid}/buildings`);
    const building = buildings.find((b) => b.kind === 'residential' && b.households > 0)!;
    expect(building).toBeDefined();

    // The menu entry leads to the worker's own grid.
    await page.getByRole('menuitem', { name: '楼栋与人口' }).click();
    await page.waitForURL(`**/registry?grid=${grid}`);
    await page.getByTestId('registry-counts').getByText('户数').waitFor();
    const tree = page.getByTestId('building-tree');
    await tree.getByTestId(`building-${building.id}`).click();
    const unit = tree.locator('[data-testid^="unit-"]').first();
    await unit.waitFor();
    await unit.click();
    const household = tree.locator('[data-testid^="household-"]').first();
    await household.waitFor();
    await household.click();
    const person = tree.locator('[data-testid^="person-"]').first();
    await person.waitFor();
    expect(await person.textContent()).toMatch(/\d{6}\*{8}\d{3}[\dX]/);
    await screenshot(page, 'registry-tree');

    // The search finds people by the start of their name.
    const name = (await person.locator('strong').first().textContent())!.trim();
    await page.getByLabel('查找人员').fill(name.slice(0, 1));
    await page.getByLabel('查找人员').press('Enter');
    await page.getByTestId('person-search-results').getByText(name).first().waitFor();
    await screenshot(page, 'registry-search');
    await page.getByTestId('person-search-results').getByRole('button', { name: '清除' }).click();

    await person.click();
    await page.waitForURL('**/registry/persons/*');
    const id = page.getByTestId('person-idNumber');
    await id.waitFor();
    expect((await id.textContent())?.trim()).toMatch(maskedId);
    // Grid workers lack person.reveal: no reveal button at all.
    expect(await page.getByTestId('reveal-idNumber').count()).toBe(0);
    expect(await page.getByRole('button', { name: '查看完整号码' }).count()).toBe(0);
    await page.getByTestId('household-members').locator('tbody tr.ant-table-row').first().waitFor();
    await screenshot(page, 'registry-person');

    // Editing against a stale version: someone else changed the person meanwhile → a clear message and reload.
    const personId = Number(page.url().split('/').pop());
    await page.getByTestId('person-edit').click();
    const drawer = page.getByRole('dialog');
    await drawer.getByLabel('工作单位').fill('社区超市店员');
    const other = await page.request.patch(`/api/persons/${personId}`, { data: { work: '物业公司保洁' } });
    expect(other.status(), await other.text()).toBe(200);
    await drawer.getByTestId('person-save').click();
    await drawer.getByTestId('person-edit-error').getByText('该记录已被他人修改').waitFor();
    await screenshot(page, 'registry-person-conflict');
    await drawer.getByRole('button', { name: /重新加载/ }).click();
    await page.getByText('物业公司保洁').waitFor();
    // After the reload the same edit goes through.
    await page.getByTestId('person-edit').click();
    await page.getByRole('dialog').getByLabel('工作单位').fill('社区超市店员');
    await page.getByRole('dialog').getByTestId('person-save').click();
    await page.getByText('社区超市店员').waitFor();

    // A person of another grid is not found (out of scope).
    await page.goto('/registry/persons/999999999');
    await page.getByText('页面不存在或无权查看').waitFor();
    await context.close();
  });

  it('a centre operator reveals an ID number with a reason, and the reveal is audited', async () => {
    const started = new Date(Date.now() - 60_000).toISOString();
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    const me = await getJson<Me>(page, '/api/me');
    const { items } = await getJson<{ items: PersonSummary[] }>(page, '/api/persons?limit=1');
    const personId = items[0]!.id;

    await page.goto(`/registry/persons/${personId}`);
    const id = page.getByTestId('person-idNumber');
    await id.waitFor();
    expect((await id.textContent())?.trim()).toMatch(maskedId);
    await page.getByTestId('reveal-idNumber').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('事由').waitFor();
    // No reason: the form says so, and nothing is revealed.
    await dialog.getByRole('button', { name: /查\s*看/ }).click();
    await dialog.getByText('请填写事由').waitFor();
    await dialog.getByLabel('事由').fill('ab');
    await dialog.getByText('事由至少 4 个字').waitFor();
    await screenshot(page, 'registry-reveal-reason');
    const reason = '入户走访核实身份（e2e）';
    await dialog.getByLabel('事由').fill(reason);
    await dialog.getByRole('button', { name: /查\s*看/ }).click();
    await expect
      .poll(async () => (await id.textContent())?.trim(), { timeout: 20_000 })
      .toMatch(/^\d{17}[\dX]$/);
    await screenshot(page, 'registry-person-revealed');
    // Not kept anywhere: after a reload the number is masked again, and the URL never held it.
    expect(page.url()).not.toMatch(/\d{17}/);
    await page.reload();
    await id.waitFor();
    expect((await id.textContent())?.trim()).toMatch(maskedId);

    // A person with key-group tags: the tags and their own fields.
    const tagged = await getJson<{ items: PersonSummary[] }>(page, '/api/persons?tag=elderly_alone&limit=1');
    await page.goto(`/registry/persons/${tagged.items[0]!.id}`);
    await page.getByTestId('person-tags').getByText('独居老人').first().waitFor();
    await screenshot(page, 'registry-person-tags');

    // The export of the person's grid: full numbers only with a reason; the masked workbook downloads.
    await page.goto(`/registry?grid=${items[0]!.gridCode}`);
    await page.getByTestId('registry-export').click();
    const exportDialog = page.getByRole('dialog');
    await exportDialog.getByText('显示完整号码').click();
    await exportDialog.getByRole('button', { name: /开始导出/ }).click();
    await exportDialog.getByText('请填写事由').waitFor();
    await screenshot(page, 'registry-export');
    await exportDialog.getByText('显示完整号码').click();
    const [workbook] = await Promise.all([
      page.waitForEvent('download'),
      exportDialog.getByRole('button', { name: /开始导出/ }).click(),
    ]);
    expect(
      readFileSync(await workbook.path())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    expect(workbook.suggestedFilename()).toMatch(/\.xlsx$/);
    await context.close();

    // An admin (audit.read) finds the reveal among demo-street's reads.
    const adminContext = await newContext(browser, baseUrl);
    const admin = await loginAs(adminContext, 'demo-admin');
    const to = new Date(Date.now() + 60_000).toISOString();
    const reads = await getJson<{ items: { action: string; objectId: string | null }[] }>(
      admin,
      `/api/audit/reads?actor=${me.user.id}&from=${encodeURIComponent(started)}&to=${encodeURIComponent(to)}`,
    );
    expect(reads.items).toContainEqual(
      expect.objectContaining({ action: 'person.revealed', objectId: String(personId), reason }),
    );
    await adminContext.close();
  });

  it('the import wizard: 3 bad rows, all or nothing → nothing imported, the error workbook downloads', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    const { items } = await getJson<{ items: PersonSummary[] }>(page, '/api/persons?limit=1');
    const grid = items[0]!.gridCode;

    // Two good rows and three with one problem each: a wrong check digit, a bad phone, no name.
    const seq = String(100 + Math.floor(Math.random() * 800));
    const ids = [0, 1, 2, 3, 4].map((i) => residentId(`23080319010${i + 1}03${seq}`));
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet(registryExcelSheetNames.persons);
    sheet.addRow(personExcelColumns.map((c) => c.header));
    const row = (values: Record<string, string>) =>
      sheet.addRow(personExcelColumns.map((c) => values[c.field] ?? ''));
    const base = { gender: '男', gridCode: grid, currentAddress: '测试路 1 号' };
    row({ ...base, name: '导入甲', idNumber: ids[0]!, phone: '13900001111' });
    row({ ...base, name: '导入乙', idNumber: wrongCheck(ids[1]!) });
    row({ ...base, name: '导入丙', idNumber: ids[2]!, phone: '12345' });
    row({ ...base, name: '', idNumber: ids[3]! });
    row({ ...base, name: '导入戊', idNumber: ids[4]! });
    const buffer = Buffer.from(await workbook.xlsx.writeBuffer());

    await page.goto('/registry');
    await page.getByRole('menuitem', { name: '批量导入' }).click();
    await page.waitForURL('**/registry/import');
    await page.getByText('实有人口', { exact: true }).click();
    // The template downloads.
    const [template] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('import-template').click(),
    ]);
    expect(
      readFileSync(await template.path())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    await screenshot(page, 'registry-import-kind');
    await page.getByRole('button', { name: '下一步' }).click();
    await page.locator('input[type=file]').setInputFiles({
      name: 'persons.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer,
    });
    await page.getByText('已选择：persons.xlsx').waitFor();
    await page.getByText('全部成功才导入', { exact: true }).click();
    await screenshot(page, 'registry-import-upload');
    await page.getByTestId('import-submit').click();

    await page.getByTestId('import-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('import-status').textContent()).toBe('未导入');
    const errorRows = page.getByTestId('import-errors').locator('tbody tr.ant-table-row');
    await expect.poll(() => errorRows.count()).toBe(3);
    const rowNumbers = (await errorRows.locator('td:first-child').allTextContents()).map(Number);
    expect(rowNumbers.sort((a, b) => a - b)).toEqual([3, 4, 5]);
    await screenshot(page, 'registry-import-result');

    const [report] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('import-download-errors').click(),
    ]);
    const bytes = readFileSync(await report.path());
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect(report.suggestedFilename()).toMatch(/\.xlsx$/);

    // Nothing was stored, not even the good rows.
    for (const good of [ids[0]!, ids[4]!]) {
      const found = await getJson<{ items: unknown[] }>(page, `/api/persons?q=${good}`);
      expect(found.items).toEqual([]);
    }
    // The recent imports list shows it.
    await page.getByTestId('import-recent').getByText('未导入').first().waitFor();
    await context.close();
  });

  it('the grid sizing report lists the flagged grids first', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-street');
    const me = await getJson<Me>(page, '/api/me');
    const street = me.scope[0]!.regionCode;
    const sizing = await getJson<{ items: { gridCode: string; flag: string }[] }>(
      page,
      `/api/regions/${street}/grid-sizing`,
    );
    const flagged = sizing.items.filter((i) => i.flag !== 'ok');
    expect(flagged.length).toBeGreaterThan(0);

    await page.getByRole('menuitem', { name: '网格规模核查' }).click();
    await page.waitForURL('**/registry/sizing');
    const table = page.getByTestId('sizing-table');
    await table.locator('tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('sizing-guidance').getByText('300–500 户').waitFor();
    const flags = await table.locator('[data-testid^="sizing-flag-"]').allTextContents();
    expect(flags.length).toBe(Math.min(sizing.items.length, 50));
    expect(flags.slice(0, Math.min(flagged.length, 50)).every((f) => f === '偏小' || f === '偏大')).toBe(
      true,
    );
    await screenshot(page, 'registry-sizing');

    // In English too.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByText('Grid sizing', { exact: true }).first().waitFor();
    await table.getByText('Too small').first().waitFor();
    await screenshot(page, 'registry-sizing-en');
    await page.getByRole('menuitem', { name: 'Building tree' }).click();
    await page.getByText('Choose a grid to see its buildings, households and residents.').first().waitFor();
    await screenshot(page, 'registry-tree-en');
    await context.close();
  });
});
