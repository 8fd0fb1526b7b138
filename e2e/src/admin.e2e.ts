import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { browserAvailable, launchBrowser, loginAs, newContext, screenshot } from './browser.ts';

interface Region {
  code: string;
  name: string;
  level: string;
  centroid: [number, number] | null;
}

async function childrenOf(page: Page, code: string): Promise<Region[]> {
  const response = await page.request.get(`/api/regions/${code}/children`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { items: Region[] }).items;
}

function box(lng: number, lat: number, d: number): number[][] {
  return [
    [lng - d, lat - d],
    [lng + d, lat - d],
    [lng + d, lat + d],
    [lng - d, lat + d],
    [lng - d, lat - d],
  ];
}

/** Picks an option of the open AntD Select / TreeSelect dropdown. */
async function pickOption(page: Page, text: string) {
  await page.locator('.ant-select-dropdown:visible').getByText(text, { exact: false }).first().click();
}

/**
 * Chooses an option of an AntD Select or TreeSelect: opens it (or types `search` into it), clicks the option
 * holding `text` and checks the field now shows `shown`. A click during the dropdown's opening animation can be
 * lost; then it tries again.
 */
async function choose(
  page: Page,
  field: Locator,
  text: string,
  options: { search?: string; shown?: string } = {},
) {
  const select = field.locator(
    'xpath=ancestor::div[contains(concat(" ", normalize-space(@class), " "), " ant-select ")][1]',
  );
  const shown = options.shown ?? text;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (options.search) await field.fill(options.search);
    else await field.click();
    await pickOption(page, text);
    await page.waitForTimeout(200);
    if (((await select.textContent()) ?? '').includes(shown)) return;
    await page.keyboard.press('Escape');
  }
  expect(await select.textContent()).toContain(shown);
}

/** Waits until a dialog closes after a submit; a server error shown in it fails the test with its message. */
async function closes(dialog: Locator) {
  await expect
    .poll(
      async () =>
        (await dialog.isVisible())
          ? (await dialog.getByRole('alert').allTextContents()).join(' ') || 'open'
          : 'closed',
      {
        timeout: 20_000,
      },
    )
    .toBe('closed');
}

describe.runIf(browserAvailable())('administration (flow 4)', () => {
  let browser: Browser;
  const baseUrl = inject('baseUrl');
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a GeoJSON file with one broken feature imports nothing and names that feature', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-admin');

    // A community of the demo city and one of its grids, found through the API.
    const districts = await childrenOf(page, '230800');
    const streets = await childrenOf(page, districts[0]!.code);
    const communities = await childrenOf(page, streets[0]!.code);
    const community = communities[0]!;
    const grid = (await childrenOf(page, community.code))[0]!;
    expect(grid.centroid).not.toBeNull();
    const [gx, gy] = grid.centroid!;
    const [cx, cy] = community.centroid!;

    // Feature 0: a good micro-grid, a small square around the grid's point. Feature 1: a "bow-tie" grid whose
    // edges cross (self-intersecting), under the same community.
    const goodCode = `${grid.code}901`;
    const badCode = `${community.code}099`;
    const e = 0.002;
    const collection = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { code: goodCode, name: '测试微网格', level: 'microgrid', parent: grid.code },
          geometry: { type: 'Polygon', coordinates: [box(gx, gy, 0.0003)] },
        },
        {
          type: 'Feature',
          properties: { code: badCode, name: '蝴蝶结网格', level: 'grid', parent: community.code },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [cx - e, cy - e],
                [cx + e, cy + e],
                [cx + e, cy - e],
                [cx - e, cy + e],
                [cx - e, cy - e],
              ],
            ],
          },
        },
      ],
    };
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wangge-import-')), 'grids.geojson');
    writeFileSync(file, JSON.stringify(collection));

    await page.goto('/admin/regions');
    await page.getByText('导入 GeoJSON').waitFor();
    await page.locator('input[type=file]').setInputFiles(file);

    const outcome = page.getByTestId('import-outcome');
    await outcome.getByText('导入失败：未导入任何区域').waitFor({ timeout: 30_000 });
    expect(await outcome.textContent()).toContain('整个文件均未导入');
    const rows = outcome.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    const row = await rows.first().textContent();
    expect(row).toContain(badCode);
    expect(row).toContain('features[1]');
    expect(row).toContain('几何图形无效');
    expect(row).toMatch(/Self-intersection/);
    expect(await outcome.textContent()).not.toContain(goodCode);
    await screenshot(page, 'admin-import-error');

    // All or nothing: the good micro-grid was not imported either.
    expect((await page.request.get(`/api/regions/${goodCode}`)).status()).toBe(404);
    expect((await page.request.get(`/api/regions/${badCode}`)).status()).toBe(404);

    // Browsing the tree: open the city and pick a district; its figures show.
    await page.getByRole('tree').getByText('佳木斯市').waitFor();
    await page.locator('.ant-tree-switcher').first().click();
    await page.getByRole('tree').getByText(districts[0]!.name).click();
    await page.getByText('区域代码').waitFor();
    await page.getByText('超期案件', { exact: true }).waitFor();
    await context.close();
  });

  it('creates a department and a user through the forms; categories and calendar show', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-admin');
    const suffix = Date.now().toString(36);

    // 职能部门: create one at the city.
    await page.goto('/admin/departments');
    await page.getByRole('button', { name: /新建部门/ }).waitFor();
    await page.locator('tbody tr').first().waitFor();
    await screenshot(page, 'admin-departments');
    await page.getByRole('button', { name: /新建部门/ }).click();
    const modal = page.getByRole('dialog');
    const departmentName = `网格测试办${suffix}`;
    await modal.getByLabel('部门代码').fill(`e2e-${suffix}`);
    await modal.getByLabel('部门名称').fill(departmentName);
    await modal.getByLabel('英文名称').fill('E2E test office');
    await choose(page, modal.getByLabel('所属区域'), '230800', { search: '佳木斯', shown: '佳木斯市' });
    await modal.getByRole('button', { name: /创\s*建/ }).click();
    await closes(modal);
    await page.getByRole('cell', { name: departmentName, exact: true }).waitFor();

    // 用户与角色: a department handler of the new department.
    await page.goto('/admin/users');
    await page.getByRole('cell', { name: 'demo-admin', exact: true }).waitFor();
    await screenshot(page, 'admin-users');
    await page.getByRole('button', { name: /新建用户/ }).click();
    const drawer = page.getByRole('dialog');
    const username = `e2e-user-${suffix}`;
    await drawer.getByLabel('用户名').fill(username);
    await drawer.getByLabel('姓名').fill('测试办理人');
    await drawer.getByLabel('初始密码').fill('initial-pass-1');
    expect(await drawer.getByLabel('首次登录须修改密码').isChecked()).toBe(true);
    await choose(page, drawer.getByLabel('角色', { exact: true }), '职能部门处置人员');
    await choose(page, drawer.getByLabel('授权区域'), '230800', { search: '佳木斯', shown: '佳木斯市' });
    await choose(page, drawer.getByLabel('职能部门'), departmentName);
    await drawer.getByRole('button', { name: /创\s*建/ }).click();
    await closes(drawer);
    // The new user is listed on top (the list pages through hundreds of users), with the new department.
    const userRow = page.getByRole('row', { name: new RegExp(username) });
    await userRow.waitFor();
    expect(await userRow.textContent()).toContain(departmentName);
    expect(await userRow.textContent()).toContain('刚创建');

    // The same user through the API, with the grant the form gave.
    const users = (await (await page.request.get('/api/users?role=department_handler&limit=200')).json()) as {
      items: {
        id: number;
        username: string;
        status: string;
        grants: { role: string; regionCode: string }[];
      }[];
    };
    const created = users.items.find((u) => u.username === username);
    expect(created?.grants).toMatchObject([{ role: 'department_handler', regionCode: '230800' }]);

    // Edit: disable the account and reset its password.
    await userRow.getByRole('button', { name: /编辑/ }).click();
    await drawer.getByLabel('账号启用').click();
    await drawer.getByLabel('重置密码').fill('another-pass-2');
    await drawer.getByRole('button', { name: /保\s*存/ }).click();
    await closes(drawer);
    await userRow.getByText('已停用').waitFor();
    const edited = (await (await page.request.get(`/api/users/${created!.id}`)).json()) as { status: string };
    expect(edited.status).toBe('disabled');

    // 事项分类与时限
    await page.goto('/admin/categories');
    await page.getByRole('cell', { name: '0101', exact: true }).waitFor();
    expect(await page.getByText('处置时限（工作日）').count()).toBeGreaterThan(0);
    await screenshot(page, 'admin-categories');

    // 节假日日历
    await page.goto('/admin/calendar');
    await page.getByText('法定节假日', { exact: true }).waitFor();
    await page.getByRole('cell', { name: '春节', exact: true }).waitFor();
    await screenshot(page, 'admin-calendar');
    await context.close();
  });

  it('an admin page opened without its permission answers 403', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await loginAs(context, 'demo-worker');
    await page.goto('/admin/calendar');
    await page.getByText('您没有访问此页面的权限。').waitFor();
    await context.close();
  });
});
