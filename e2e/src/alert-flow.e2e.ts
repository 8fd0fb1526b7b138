import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  animationsSettled,
  browserAvailable,
  demoPassword,
  launchBrowser,
  loginAs,
  newContext,
  newPhoneContext,
  screenshot,
} from './browser.ts';

/**
 * Issue 7, end to end in several browsers at once: the street's command centre sends a missing-person alert from the
 * console; two grid workers' field apps receive it live; one acknowledges, the other posts a sighting with its
 * location; the centre sees both on the board and its map without reloading and closes the alert as found; the
 * field apps drop the banner and a resident's grid page (no account) shows the alert as found, without the photo.
 */
describe.runIf(browserAvailable())(
  'a missing-person alert across console, field apps and resident page',
  () => {
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
    async function get<T>(tok: string, path: string): Promise<T> {
      const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${tok}` } });
      expect(res.status, `${path}: ${res.status}`).toBe(200);
      return (await res.json()) as T;
    }

    let streetToken: string;
    let street: string;
    let gridCode: string;
    let otherGrid: string;
    let otherWorker: string;
    type Position = { latitude: number; longitude: number; accuracy: number };
    let centre: Position;
    let otherCentre: Position;

    beforeAll(async () => {
      browser = await launchBrowser();
      streetToken = await token('demo-street');
      const workerMe = await get<{ roles: { role: string; regionCode: string }[] }>(
        await token('demo-worker'),
        '/api/me',
      );
      gridCode = workerMe.roles.find((r) => r.role === 'grid_worker')!.regionCode;
      const streetMe = await get<{ roles: { regionCode: string }[] }>(streetToken, '/api/me');
      street = streetMe.roles[0]!.regionCode;
      // a worker of another community of the same street (gw-<grid code>)
      const { items: communities } = await get<{ items: { code: string }[] }>(
        streetToken,
        `/api/regions/${street}/children`,
      );
      for (const community of communities) {
        const { items } = await get<{ items: { code: string; level: string }[] }>(
          streetToken,
          `/api/regions/${community.code}/children`,
        );
        const candidate = items.find((g) => g.level === 'grid' && !gridCode.startsWith(community.code));
        if (candidate) {
          otherGrid = candidate.code;
          otherWorker = `gw-${candidate.code}`;
          break;
        }
      }
      expect(otherWorker, 'a worker of another community of the street').toBeDefined();
      const at = async (code: string): Promise<Position> => {
        const region = await get<{ centroid: [number, number] }>(streetToken, `/api/regions/${code}`);
        return { longitude: region.centroid[0], latitude: region.centroid[1], accuracy: 10 };
      };
      centre = await at(gridCode);
      otherCentre = await at(otherGrid);
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** A grid worker's phone, signed in to the field app, its live connection open. */
    async function phone(context: BrowserContext, username: string): Promise<Page> {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.log(`page error (${username}): ${e.message}`));
      await page.goto('/field/');
      await page.getByLabel('用户名').fill(username);
      await page.getByLabel('密码').fill(demoPassword);
      await page.getByRole('button', { name: '登录' }).click();
      await page.getByTestId('my-grid').first().waitFor({ timeout: 60_000 });
      await expect
        .poll(() => page.getByTestId('live').getAttribute('data-state'), { timeout: 30_000 })
        .toBe('live');
      return page;
    }

    it('the centre sends, two field apps acknowledge and report live, the centre closes, the resident page shows it found', async () => {
      const portrait = await sharp({
        create: { width: 480, height: 640, channels: 3, background: { r: 160, g: 170, b: 190 } },
      })
        .composite([
          {
            input: Buffer.from(
              '<svg width="480" height="640"><circle cx="240" cy="230" r="120" fill="#e0b48c"/>' +
                '<rect x="110" y="370" width="260" height="270" fill="#555e6e"/></svg>',
            ),
          },
        ])
        .jpeg()
        .toBuffer();

      // everyone is looking before the alert exists: two phones, a resident's grid page, the centre's console
      const phone1Context = await newPhoneContext(browser, baseUrl, centre);
      const phone2Context = await newPhoneContext(browser, baseUrl, otherCentre);
      const residentContext = await newPhoneContext(browser, baseUrl, centre);
      const consoleContext = await newContext(browser, baseUrl);
      try {
        const phone1 = await phone(phone1Context, 'demo-worker');
        const phone2 = await phone(phone2Context, otherWorker);
        const resident = await residentContext.newPage();
        await resident.goto(`/r/${otherGrid}`);
        await resident.getByTestId('grid-page').waitFor();
        await expect.poll(() => resident.getByTestId('grid-page').getAttribute('data-live')).toBe('open');

        // 1. the street's centre composes the alert in the console, with a photo and the last-seen place
        const centrePage = await loginAs(consoleContext, 'demo-street');
        await centrePage.getByRole('menuitem', { name: '紧急协查' }).click();
        await centrePage.getByTestId('alert-create').click();
        await centrePage.waitForURL('**/alerts/new');
        const title = `寻找走失老人 李某某 ${tag}`;
        await centrePage.getByLabel('标题').fill(title);
        await centrePage
          .getByLabel('描述', { exact: true })
          .fill('女，81 岁，身高约 155 cm，红色毛衣、黑色裤子，行动缓慢，可能迷路。');
        await centrePage.locator('input[type=file]').setInputFiles({
          name: 'person.jpg',
          mimeType: 'image/jpeg',
          buffer: portrait,
        });
        await centrePage.getByLabel('地点描述').fill('幸福路与光明街交口');
        await centrePage.getByLabel('经度').fill(centre.longitude.toFixed(6));
        await centrePage.getByLabel('纬度').fill(centre.latitude.toFixed(6));
        await centrePage.getByTestId('pick-pin').waitFor({ timeout: 30_000 });
        await centrePage.locator('.ant-upload-list-item').first().waitFor();
        await centrePage.getByTestId('alert-submit').click();
        await centrePage.waitForURL(/\/alerts\/\d+$/, { timeout: 30_000 });
        const alertId = Number(/\/alerts\/(\d+)$/.exec(centrePage.url())![1]);
        await centrePage
          .locator('[data-testid="live-state"][data-state="open"]')
          .waitFor({ timeout: 20_000 });

        // 2. both field apps show it at once (no reload), with the photo
        const banner = (page: Page) => page.locator(`[data-testid=alert-banner][data-alert-id="${alertId}"]`);
        await banner(phone1).waitFor({ timeout: 20_000 });
        await banner(phone2).waitFor({ timeout: 20_000 });
        expect(await banner(phone1).textContent()).toContain(title);
        await banner(phone2).getByTestId('alert-banner-photo').waitFor({ timeout: 20_000 });
        await screenshot(phone2, 'alert-flow-phone-banner');
        // and the resident page, in red, with the photo
        const residentCard = resident.getByTestId('alert-open').filter({ hasText: title });
        await residentCard.locator('img').waitFor({ timeout: 20_000 });
        await screenshot(resident, 'alert-flow-resident-open');

        // 3. phone 1 acknowledges for its grid; phone 2 reports a sighting with its position
        await banner(phone1).getByTestId('alert-open').click();
        await phone1.locator(`[data-testid=alert-ack][data-grid="${gridCode}"]`).click();
        await phone1
          .locator(`[data-testid=alert-grid][data-grid="${gridCode}"] [data-testid=alert-acked]`)
          .waitFor({ timeout: 30_000 });
        await banner(phone2).getByTestId('alert-open').click();
        const note = `社区超市门口有一位穿红色毛衣的老太太 ${tag}`;
        await phone2.getByLabel('线索描述').fill(note);
        await expect.poll(() => phone2.getByTestId('sighting-gps').textContent()).toContain('精度');
        await phone2.getByTestId('sighting-submit').click();
        await phone2
          .locator('[data-testid=sighting]:not([data-pending])', { hasText: note })
          .waitFor({ timeout: 30_000 });
        await screenshot(phone2, 'alert-flow-phone-sighting');

        // 4. the centre sees both, live: the grid acknowledged in the table and on the map, the sighting listed and
        // on the map
        await centrePage
          .locator(`tr[data-grid="${gridCode}"][data-acknowledged="true"]`)
          .waitFor({ timeout: 20_000 });
        await centrePage.getByTestId('alert-sighting').filter({ hasText: note }).waitFor({ timeout: 20_000 });
        await centrePage
          .getByTestId('alert-sighting-marker')
          .filter({ hasText: tag })
          .waitFor({ timeout: 20_000 });
        expect(await centrePage.getByTestId('map-ack-count').textContent()).toBe('1');
        await centrePage
          .locator('[data-testid="alert-map"] [data-map-idle="true"]')
          .waitFor({ timeout: 30_000 });
        await screenshot(centrePage, 'alert-flow-centre-board');
        // the record agrees
        const detail = await get<{
          grids: { gridCode: string; acknowledgedAt: string | null }[];
          sightings: { note: string; location: { lng: number; lat: number } }[];
        }>(streetToken, `/api/alerts/${alertId}`);
        expect(detail.grids.filter((g) => g.acknowledgedAt).map((g) => g.gridCode)).toEqual([gridCode]);
        const sighting = detail.sightings.find((s) => s.note === note)!;
        expect(sighting.location.lng).toBeCloseTo(otherCentre.longitude, 4);
        expect(sighting.location.lat).toBeCloseTo(otherCentre.latitude, 4);

        // 5. found: the centre closes it; it closes for everyone
        await centrePage.getByTestId('alert-close').click();
        const dialog = centrePage.getByRole('dialog');
        await dialog.getByLabel('已找到').check();
        await animationsSettled(dialog);
        await centrePage.getByTestId('alert-close-confirm').click();
        await centrePage.getByTestId('alert-closed-banner').waitFor({ timeout: 15_000 });
        await banner(phone1).waitFor({ state: 'detached', timeout: 20_000 });
        await banner(phone2).waitFor({ state: 'detached', timeout: 20_000 });
        await expect
          .poll(() => phone2.getByTestId('alert-outcome').textContent(), { timeout: 20_000 })
          .toContain('已找到');
        const found = resident.getByTestId('alert-closed').filter({ hasText: title });
        await found.waitFor({ timeout: 20_000 });
        expect(await found.textContent()).toContain('已找到');
        expect(await residentCard.count()).toBe(0);
        expect(await resident.locator(`img[src*="/api/public/alerts/${alertId}/"]`).count()).toBe(0);
        const publicPhoto = await fetch(`${baseUrl}/api/public/alerts/${alertId}/photo`);
        expect(publicPhoto.status).toBe(404);
        await screenshot(resident, 'alert-flow-resident-found');
        await screenshot(centrePage, 'alert-flow-centre-closed');
      } finally {
        await phone1Context.close();
        await phone2Context.close();
        await residentContext.close();
        await consoleContext.close();
      }
    });
  },
);
