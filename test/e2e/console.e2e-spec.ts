/**
 * The console in a real browser: Debian's chromium, driven by puppeteer-core, against Cordon (listening
 * on a port) and the Microsoft 365 simulator. Every effect is read back on Microsoft's side (the
 * simulator's state). Writes screenshots of the main pages to test-results/console/*.png; with
 * CORDON_UPDATE_SCREENSHOTS=1 to docs/console/*.png, the ones the README shows.
 * Without chromium the suite FAILS (CI installs it: .ci/run); it never skips.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { DataSource } from 'typeorm';
import { DeviceInventoryService } from '../../src/integrations/defender-endpoint/device-inventory.service';
import type { RunningSimulator } from '../m365-simulator/src';
import { consoleDirectory, CONSOLE_CSP } from '../../src/console/console-static';
import { collectionStatus, requestRuns, streamOf } from './support/collection-runs';
import { CONTRAST_CHECK, type ContrastFailure } from './support/contrast';
import { graphWrites, registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, startTestApp, TestApp } from './support/test-app';

const CHROMIUM = process.env.CORDON_CHROMIUM ?? '/usr/bin/chromium';
const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const ALICE = '0b7c1e2d-0003-4a00-8000-000000000003';
const BOB = '0b7c1e2d-0004-4a00-8000-000000000004';
const CAROL = '0b7c1e2d-0005-4a00-8000-000000000005';
const DAN = '0b7c1e2d-0006-4a00-8000-000000000006';
const SHOTS = join(__dirname, '..', '..', ...(process.env.CORDON_UPDATE_SCREENSHOTS === '1' ? ['docs', 'console'] : ['test-results', 'console']));

// The browser globals the functions run in the page use (this file is compiled without the DOM library).
interface PageElement {
  innerText: string;
  disabled?: boolean;
  value?: string;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(s: string): PageElement | null; querySelectorAll(s: string): Iterable<PageElement>; activeElement: PageElement | null };
declare const location: { hash: string; href: string };
declare const sessionStorage: { clear(): void; getItem(key: string): string | null };
declare const localStorage: { length: number };
declare const window: { dispatchEvent(e: unknown): void };
declare const HashChangeEvent: new (type: string) => unknown;

describe('the console, in chromium (against the simulator)', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let base: string;
  let contoso: string;
  let fabrikam: string;
  let aliceAction: string;
  let rejectedAction: string;
  let browser: Browser;
  let page: Page;
  /** Collects the page's script errors and CSP violations (both end up as console errors). */
  const watch = (p: Page) => {
    p.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    p.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  };
  const keys = {} as Record<'responder' | 'responder2' | 'analyst' | 'auditor', string>;
  const problems: string[] = [];
  const user = (id: string) => sim.context.tenants.get(CONTOSO_TID)!.users.find((u) => u.id === id)!;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `chromium is missing at ${CHROMIUM}: install it (apt-get install -y --no-install-recommends chromium) or set CORDON_CHROMIUM; .ci/run installs it`,
      );
    }
    if (!existsSync(join(consoleDirectory(), 'index.html'))) throw new Error(`the console is not built in ${consoleDirectory()}: run npm run build first`);
    mkdirSync(SHOTS, { recursive: true });
    sim = await startDemoSimulator();
    t = await startTestApp({ ...simEnv(sim), CORDON_ACTION_LEASE_S: '5' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.getHttpServer().address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    contoso = await registerSimTenant(t, sim, 'Contoso Demo');
    fabrikam = await registerSimTenant(t, sim, 'Fabrikam Basic');
    await t.app.get(DeviceInventoryService).sync(contoso); // the device inventory, as the collector syncs it
    // The demo's alerts, incidents and sign-ins, collected as the scheduler would (Find and act shows them).
    await requestRuns(t, contoso, ['alerts', 'incidents', 'Entra.SignIns']);
    keys.responder = (await createKey(t, ['responder'])).key;
    keys.responder2 = (await createKey(t, ['responder'])).key;
    keys.analyst = (await createKey(t, ['analyst'])).key;
    keys.auditor = (await createKey(t, ['auditor'])).key;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--lang=en-US'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 860 });
    await page.emulateTimezone('Europe/Berlin');
    watch(page);
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    if (t) for (const id of [contoso, fabrikam]) if (id) await t.http.delete(`/v1/tenants/${id}`).set(bearer(t.adminKey));
    await t?.close();
    await sim?.stop();
  });

  const text = (selector: string) => page.$eval(selector, (el) => el.innerText);
  const waitText = (selector: string, needle: string | RegExp, timeout = 15000) =>
    page.waitForFunction(
      (sel: string, source: string, flags: string) => {
        const el = document.querySelector(sel);
        return !!el && new RegExp(source, flags).test(el.innerText);
      },
      { timeout },
      selector,
      typeof needle === 'string' ? needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : needle.source,
      typeof needle === 'string' ? '' : needle.flags,
    );
  /** Every visible text's contrast with its effective background, WCAG 2.x AA: 4.5:1, 3:1 for large text. */
  const contrastFailures: string[] = [];
  const checkContrast = async (name: string) => {
    const failures = (await page.evaluate(CONTRAST_CHECK)) as ContrastFailure[];
    contrastFailures.push(...failures.map((f) => `${name}: "${f.text}" ${f.color} on ${f.background} = ${f.ratio}:1 (needs ${f.needs}:1)`));
  };
  const shot = async (name: string) => {
    await checkContrast(name);
    await page.screenshot({ path: join(SHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
  };
  /** Presses the button named `aria` (its aria-label) with the keyboard. */
  const pressNamed = async (aria: string) => {
    const b = await page.waitForSelector(`main button[aria-label="${aria}"]:not([disabled])`, { timeout: 15000 });
    await b!.focus();
    await page.keyboard.press('Enter');
  };
  const rows = (selector: string) => page.$$eval(`${selector} tbody tr`, (trs) => trs.length);
  /** Picks Contoso and a page size in a list's filters, and filters. */
  const filterContoso = async (limit: string) => {
    await page.waitForSelector('main form.filters select[name=tenant]');
    await page.select('main form.filters select[name=tenant]', contoso);
    await page.select('main form.filters select[name=limit]', limit);
    await press('Filter');
  };
  /** On PostgreSQL the suites share one database: other suites' tenants are listed too. */
  const pickContoso = async () => {
    await page.waitForSelector('select[name=tenant]');
    await page.select('select[name=tenant]', contoso);
  };
  const go = async (hash: string) => {
    // The same hash again fires no hashchange: the page is asked to draw itself anew, as a click on its link does.
    await page.evaluate((h: string) => {
      if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
      else location.hash = h;
    }, hash);
  };
  /** Presses the button whose text is `label` (inside `scope`), as a keyboard user would: focus, Enter. */
  const press = async (label: string, scope = 'main') => {
    const handle = await page.waitForFunction(
      (s: string, l: string) => [...document.querySelectorAll(`${s} button`)].find((b) => b.innerText.trim() === l && !b.disabled) ?? null,
      { timeout: 15000 },
      scope,
      label,
    );
    await (handle as unknown as { focus(): Promise<void> }).focus();
    await page.keyboard.press('Enter');
  };
  const signIn = async (key: string) => {
    // The key is forgotten on a page of the console's origin that runs no script (the style sheet), so
    // no page still starting up with the previous key can draw over the sign-in form.
    await page.goto(`${base}/console/app.css`, { waitUntil: 'domcontentloaded' });
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${base}/console/#/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('input[name=apiKey]');
    await page.type('input[name=apiKey]', key);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#nav a');
  };

  it('GET /v1/api-keys/me answers who the caller is (any role); without a key, 401', async () => {
    const me = await t.http.get('/v1/api-keys/me').set(bearer(keys.analyst));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ type: 'apiKey', id: expect.any(String), name: 'test analyst', roles: ['analyst'], tenantIds: null });
    expect((await t.http.get('/v1/api-keys/me').set(bearer(keys.auditor))).body.roles).toEqual(['auditor']);
    expect((await t.http.get('/v1/api-keys/me')).status).toBe(401);
  });

  it('serves /console with the strict CSP, from the same process', async () => {
    const res = await t.http.get('/console/');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).not.toMatch(/<script>|style=/);
    expect((await t.http.get('/console')).headers.location).toBe('/console/');
    const js = await t.http.get('/console/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('signs in with a pasted key kept in sessionStorage only; the role decides the pages shown', async () => {
    await page.goto(`${base}/console/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('input[name=apiKey]');
    await shot('sign-in');
    await page.type('input[name=apiKey]', 'cdn_not-a-real-key');
    await page.keyboard.press('Enter');
    await waitText('main .error', /not accepted/);
    await page.$eval('input[name=apiKey]', (el) => (el.value = ''));
    await page.type('input[name=apiKey]', keys.responder);
    await page.keyboard.press('Enter');
    await waitText('#nav', 'Approvals');
    expect(await text('#nav')).toMatch(/Tenants[\s\S]*Find and act[\s\S]*Approvals[\s\S]*Actions[\s\S]*Containments/);
    expect(await text('#nav')).not.toMatch(/Audit/); // a responder does not read the audit log
    // Keyboard: the skip link (first in the page) moves focus to the content and keeps the route.
    const before = await page.evaluate(() => location.hash);
    await page.focus('a.skip');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => [location.hash, document.activeElement?.getAttribute('id')])).toEqual([before, 'main']);
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.getItem('cordon.console.apiKey'), url: location.href }));
    expect(storage).toEqual({ local: 0, session: keys.responder, url: expect.not.stringContaining('cdn_') });
    // Who may act lands on Find and act; Tenants shows the connection and each capability with its status.
    await page.waitForSelector('input[name=upn]');
    expect(await page.evaluate(() => location.hash)).toBe('#/find');
    await go('#/tenants');
    await waitText('main', 'Contoso Demo');
    await waitText('main', 'Fabrikam Basic');
    await page.waitForFunction(() => [...document.querySelectorAll('main .summary')].length >= 2, { timeout: 15000 });
    // Fabrikam has no Entra ID P1/P2: what it lacks is listed first, with what to do.
    const fabrikamCaps = (await t.http.get(`/v1/tenants/${fabrikam}/capabilities`).set(bearer(keys.responder))).body.capabilities as Array<{
      capability: string;
      status: string;
    }>;
    const unlicensed = fabrikamCaps.find((c) => c.status === 'unlicensed')!;
    expect(unlicensed).toBeDefined();
    expect(await text('main')).toMatch(new RegExp(`${unlicensed.capability}\\s+unlicensed`));
    // Collection per source: last success, lag, throttled-until; Fabrikam's sign-ins are skipped (unlicensed).
    const collected = await collectionStatus(t, contoso);
    const alertsStream = streamOf(collected, 'alerts');
    expect(alertsStream.lastSuccessAt).toBe(alertsStream.lastRun.finishedAt);
    expect(typeof alertsStream.lagSeconds).toBe('number');
    const fabrikamSignIns = streamOf(await collectionStatus(t, fabrikam), 'Entra.SignIns');
    expect(fabrikamSignIns).toMatchObject({ state: 'skipped', lastSuccessAt: null });
    await page.waitForFunction(() => [...document.querySelectorAll('main .collection table')].length >= 2, { timeout: 15000 });
    const collectionRow = (tenant: string, stream: string) =>
      page.evaluate(
        (caption: string, s: string) =>
          [...document.querySelectorAll('main .collection table')]
            .filter((tb) => tb.innerText.startsWith(caption))
            .flatMap((tb) => [...(tb as unknown as { querySelectorAll(x: string): Iterable<PageElement> }).querySelectorAll('tbody tr')])
            .map((tr) => tr.innerText)
            .find((r) => r.startsWith(s)) ?? '',
        `Collection of ${tenant}, per source`,
        stream,
      );
    const contosoAlerts = await collectionRow('Contoso Demo', 'alerts');
    expect(contosoAlerts).toMatch(/^alerts\s+active\s+\S/);
    expect(contosoAlerts).not.toMatch(/never|nothing stored yet|not run yet/);
    expect(contosoAlerts).toMatch(/\b\d+ (s|min|h|d)\b/); // the lag, in words
    expect(await collectionRow('Fabrikam Basic', 'Entra.SignIns')).toMatch(/^Entra\.SignIns\s+skipped\s+never[\s\S]*unlicensed/);
    await shot('tenants');
  });

  it('isolates Alice: a dry run first (nothing changes at Microsoft), then for real (the simulator shows her disabled), steps watched live', async () => {
    const since = sim.journal.list({}).length;
    await go('#/find');
    await pickContoso();
    await page.waitForSelector('input[name=upn]');
    await page.type('input[name=upn]', 'alice@contoso.example');
    await press('Find user');
    await waitText('main', 'Act on alice@contoso.example');
    // Her evidence: the sign-ins Cordon collected and the alerts naming her (not Bob's).
    await waitText('main', 'Sign-ins Cordon collected');
    const signIns = (await t.http.get(`/v1/events?tenantId=${contoso}&source=entra-sign-ins&user=alice@contoso.example&limit=10`).set(bearer(keys.responder)))
      .body.items as unknown[];
    expect(signIns.length).toBeGreaterThan(0);
    expect(await rows('main .sign-ins')).toBe(signIns.length);
    await waitText('main', 'Collected alerts whose evidence names it');
    const named = (await t.http.get(`/v1/alerts?tenantId=${contoso}&user=ALICE@contoso.example`).set(bearer(keys.responder))).body.items as Array<{
      title: string;
    }>;
    expect(named.map((a) => a.title).sort()).toEqual(
      [
        'Email messages containing malicious URL removed after delivery',
        'Ransomware behavior detected in the file system',
        'Unfamiliar sign-in properties',
      ].sort(),
    );
    expect((await t.http.get(`/v1/alerts?tenantId=${contoso}&user=${ALICE}`).set(bearer(keys.responder))).body.items).toHaveLength(3); // by object id
    expect(await rows('main .named-alerts')).toBe(3);
    for (const a of named) expect(await text('main .named-alerts')).toContain(a.title);
    expect(await text('main')).not.toContain('Suspected brute-force attack (LDAP)'); // Bob's
    expect(await text('main')).toMatch(/Seattle, US|Lagos, NG/);
    expect((await t.http.get(`/v1/alerts?user=${'x'.repeat(501)}`).set(bearer(keys.responder))).status).toBe(400);
    await page.type('input[name=reason]', 'INC-1: impossible travel');
    await page.type('input[name=ticket]', 'INC-1');
    expect(await page.$eval('main button.danger', (b) => b.disabled)).toBe(true); // no run before a preview
    await press('Preview (dry run)');
    await waitText('main .plan', /disable-sign-in: accountEnabled true → false/);
    expect(user(ALICE).accountEnabled).toBe(true);
    expect(graphWrites(sim, since)).toEqual([]);
    await shot('find-and-act');
    await press('Run for real');
    await page.waitForFunction(() => /^#\/actions\/[0-9a-f-]{36}$/.test(location.hash), { timeout: 10000 });
    const id = await page.evaluate(() => location.hash.split('/')[2]);
    aliceAction = id;
    await waitText('main h1', /succeeded/, 30000);
    expect(user(ALICE).accountEnabled).toBe(false);
    const action = (await t.http.get(`/v1/actions/${id}`).set(bearer(keys.responder))).body;
    expect(action).toMatchObject({ type: 'user.isolate', status: 'succeeded', dryRun: false, reason: 'INC-1: impossible travel', ticket: 'INC-1' });
    // Microsoft's request ids are on the page, as the action records them.
    const ids = action.steps.map((s: { microsoftRequestId?: string }) => s.microsoftRequestId).filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    for (const rid of ids) expect(await text('main')).toContain(rid);
    await waitText('main', 'Evidence');
    // Only one isolation reached Microsoft: one PATCH of accountEnabled.
    expect(graphWrites(sim, since).filter((w) => w.method === 'PATCH' && w.path.includes(ALICE))).toHaveLength(1);
    await shot('action');
  });

  it('finds a device by name and previews its isolation: the plan is shown, nothing is sent to Defender', async () => {
    const since = sim.journal.list({}).length;
    await go('#/find');
    await pickContoso();
    await page.waitForSelector('input[name=deviceName]');
    await page.type('input[name=deviceName]', 'ws-00');
    await press('Find devices');
    await waitText('main table', 'ws-001.contoso.example');
    expect(await text('main table')).toContain('ws-002.contoso.example');
    expect(await text('main table')).not.toContain('fin-laptop-07');
    const choose = await page.waitForSelector('main button[aria-label="Choose ws-001.contoso.example"]');
    await choose!.focus();
    await page.keyboard.press('Enter');
    await waitText('main', 'Act on ws-001.contoso.example');
    await waitText('main', 'Ransomware behavior detected in the file system'); // the alert naming this device
    expect(await text('main')).not.toContain('Unfamiliar sign-in properties'); // Alice's alone
    const byDevice = (await t.http.get(`/v1/alerts?tenantId=${contoso}&device=WS-001.contoso.example`).set(bearer(keys.responder))).body.items;
    expect(byDevice.map((a: { title: string }) => a.title)).toEqual(['Ransomware behavior detected in the file system']);
    expect(await page.$eval('select[name=action]', (el) => el.value)).toBe('isolate');
    await page.type('input[name=reason]', 'INC-4: beaconing');
    await press('Preview (dry run)');
    await waitText('main .plan', /isolate/i);
    expect(sim.journal.list({ host: 'defender', method: 'POST', since })).toEqual([]);
    await shot('find-device');
  });

  it("approves an analyst's request as a responder; the simulator shows the effect", async () => {
    const requested = await t.http
      .post(`/v1/tenants/${contoso}/users/bob@contoso.example/disable`)
      .set(bearer(keys.analyst))
      .send({ reason: 'INC-2: phishing click', ticket: 'INC-2' });
    expect(requested.body.status).toBe('awaiting_approval');
    await go('#/approvals');
    await waitText('main .queue', 'bob@contoso.example');
    await shot('approvals');
    expect(user(BOB).accountEnabled).toBe(true);
    await page.type('main .queue input[name=decisionReason]', 'confirmed with the user');
    await press('Approve', 'main .queue');
    await waitText('main', /Approved: now/);
    const done = await waitForFinal(requested.body.id);
    expect(done).toMatchObject({ status: 'succeeded', approvedBy: { name: expect.any(String) } });
    expect(user(BOB).accountEnabled).toBe(false);
  });

  it("an analyst's request from the console waits for approval; rejected with a reason, nothing reaches Microsoft and the analyst sees why, live", async () => {
    const since = sim.journal.list({}).length;
    const responderPage = page;
    const analystPage = await (await browser.createBrowserContext()).newPage();
    watch(analystPage);
    await analystPage.setViewport({ width: 1280, height: 860 });
    page = analystPage;
    try {
      await signIn(keys.analyst);
      expect(await text('#nav')).toMatch(/Find and act/);
      expect(await text('#nav')).not.toMatch(/Approvals|Audit/);
      await go('#/find');
      await pickContoso();
      await page.waitForSelector('input[name=upn]');
      await page.type('input[name=upn]', 'carol@contoso.example');
      await press('Find user');
      await waitText('main', 'Act on carol@contoso.example');
      await page.select('select[name=action]', 'disable');
      await page.type('input[name=reason]', 'INC-3: odd login');
      await press('Preview (dry run)');
      await waitText('main .plan', /disable-sign-in/);
      await press('Run for real');
      await page.waitForFunction(() => /^#\/actions\/[0-9a-f-]{36}$/.test(location.hash), { timeout: 10000 });
      rejectedAction = await page.evaluate(() => location.hash.split('/')[2]);
      await waitText('main', 'Waiting for approval by a responder.');
      await waitText('main h1', /awaiting approval/);
    } finally {
      page = responderPage;
    }
    expect((await t.http.get(`/v1/actions/${rejectedAction}`).set(bearer(keys.responder))).body).toMatchObject({
      type: 'user.disable',
      status: 'awaiting_approval',
      reason: 'INC-3: odd login',
    });
    await go('#/approvals');
    await waitText('main .queue', 'carol@contoso.example');
    await page.type('main .queue input[name=decisionReason]', 'a travelling user, not an attack');
    await press('Reject', 'main .queue');
    await waitText('main', /Rejected: now rejected/);
    // The analyst's page, still open, follows the action to its end and shows the reason.
    page = analystPage;
    try {
      await waitText('main h1', /rejected/);
      await waitText('main .decision', 'a travelling user, not an attack');
    } finally {
      page = responderPage;
      await analystPage.browserContext().close();
    }
    await go(`#/actions/${rejectedAction}`);
    await waitText('main .decision', 'a travelling user, not an attack');
    expect(user(CAROL).accountEnabled).toBe(true);
    expect(graphWrites(sim, since)).toEqual([]);
    await go('#/actions');
    await waitText('main table', 'carol@contoso.example');
    await shot('actions');
    await go('#/containments');
    await waitText('main table', 'alice@contoso.example');
    await shot('containments');
  });

  it('the containments board: extend, keep and release now, each confirmed first, its outcome shown; paged', async () => {
    // Dan disabled with an automatic release in 4 hours; Carol, Erin and Frank (already off) disabled by hand.
    const contain = (upn: string, body: Record<string, unknown>) =>
      t.http
        .post(`/v1/tenants/${contoso}/users/${upn}/disable`)
        .set(bearer(keys.responder))
        .set('Prefer', 'wait=15')
        .send({ reason: 'INC-5: containment board', ...body });
    const dan = await contain('dan@contoso.example', { releaseAfter: 'PT4H' });
    expect(dan.body.status).toBe('succeeded');
    for (const upn of ['carol', 'erin', 'frank.former']) expect((await contain(`${upn}@contoso.example`, {})).body.status).toBe('succeeded');
    const scheduled = (await t.http.get(`/v1/actions/${dan.body.id}`).set(bearer(keys.responder))).body.release;
    expect(scheduled).toMatchObject({ status: 'scheduled', releaseAfter: 'PT4H' });
    const dueBefore = Date.parse(scheduled.scheduledAt);

    await go('#/containments');
    await filterContoso('5');
    // Paged: 5 of at least 6 rows, then the rest after "Load more" (focus on the first new row).
    const total = (await t.http.get(`/v1/containments?tenantId=${contoso}&limit=100`).set(bearer(keys.responder))).body.items.length;
    expect(total).toBeGreaterThanOrEqual(6);
    await page.waitForFunction(() => [...document.querySelectorAll('main .pager tbody tr')].length === 5, { timeout: 15000 });
    await press('Load more');
    await page.waitForFunction((n: number) => [...document.querySelectorAll('main .pager tbody tr')].length === n, { timeout: 15000 }, total);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('tabindex'))).toBe('-1'); // a row
    expect(await text('main .pager')).toContain('all there are');
    await waitText('main table', 'dan@contoso.example');

    // Extend Dan's release to 24 hours from now.
    await pressNamed('Extend the containment of dan@contoso.example');
    await page.waitForSelector('main form.confirm');
    expect(await text('main form.confirm')).toContain('Extend the containment of dan@contoso.example?');
    await page.select('main form.confirm select[name=extendBy]', 'PT24H');
    await page.type('main form.confirm input[name=reason]', 'INC-5: forensics still running');
    await page.keyboard.press('Enter');
    await waitText('main .outcome', /Extended: dan@contoso.example is released automatically at/);
    const extended = (await t.http.get(`/v1/actions/${dan.body.id}`).set(bearer(keys.responder))).body;
    expect(Date.parse(extended.release.scheduledAt)).toBeGreaterThan(dueBefore + 19 * 3600_000);
    expect(extended.release).toMatchObject({ status: 'scheduled' });

    // Keep: the automatic release is cancelled; Dan stays disabled.
    await pressNamed('Keep dan@contoso.example contained (cancel the automatic release)');
    await page.waitForSelector('main form.confirm');
    await page.type('main form.confirm input[name=reason]', 'INC-5: keep until the rebuild');
    await press('Confirm keep', 'main form.confirm');
    await waitText('main .outcome', 'Kept: dan@contoso.example stays contained');
    expect((await t.http.get(`/v1/actions/${dan.body.id}`).set(bearer(keys.responder))).body.release).toMatchObject({ status: 'kept' });
    expect(user(DAN).accountEnabled).toBe(false);

    // Release Alice now: Cancel sends nothing; Confirm requests user.release, and the simulator shows her enabled.
    const since = sim.journal.list({}).length;
    await pressNamed('Release alice@contoso.example now');
    await waitText('main form.confirm', 'Cordon requests user.release on alice@contoso.example now');
    await press('Cancel', 'main form.confirm');
    expect(await page.$('main form.confirm')).toBeNull();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Release alice@contoso.example now');
    expect(graphWrites(sim, since)).toEqual([]);
    await page.keyboard.press('Enter'); // the same button, again
    await page.waitForSelector('main form.confirm');
    await press('Confirm release', 'main form.confirm');
    // Nothing is sent without a reason: the browser holds the form (the field is required).
    expect(await page.$('main form.confirm input[name=reason]:invalid')).not.toBeNull();
    expect(graphWrites(sim, since)).toEqual([]);
    await page.type('main form.confirm input[name=reason]', 'INC-1: all clear');
    await shot('containments-release');
    await press('Confirm release', 'main form.confirm');
    await waitText('main .outcome', 'Release of alice@contoso.example: user.release succeeded', 30000);
    expect(user(ALICE).accountEnabled).toBe(true);
    const released = (await t.http.get(`/v1/actions?tenantId=${contoso}&type=user.release&limit=1`).set(bearer(keys.responder))).body.items[0];
    expect(released).toMatchObject({ status: 'succeeded', reason: 'INC-1: all clear', target: { requested: ALICE } });
    await page.waitForFunction(
      () => [...document.querySelectorAll('main .pager tbody tr')].some((tr) => /^alice@contoso\.example[\s\S]*released/.test(tr.innerText)),
      { timeout: 15000 },
    );
  });

  it('pages Actions and Alerts and incidents with the API cursor ("Load more", from the keyboard)', async () => {
    const actions = (await t.http.get(`/v1/actions?tenantId=${contoso}&limit=10`).set(bearer(keys.responder))).body.items as Array<{ id: string }>;
    expect(actions.length).toBe(10);
    await go('#/actions');
    await filterContoso('5');
    await page.waitForFunction(() => [...document.querySelectorAll('main .pager tbody tr')].length === 5, { timeout: 15000 });
    await press('Load more');
    await page.waitForFunction(() => [...document.querySelectorAll('main .pager tbody tr')].length === 10, { timeout: 15000 });
    // The same ten, in the API's order: the pages neither skip nor repeat a row.
    const shown = await page.$$eval('main .pager tbody tr td:first-child a', (as) => as.map((a) => a.getAttribute('href')));
    expect(shown).toEqual(actions.map((a) => `#/actions/${a.id}`));

    await go('#/alerts');
    await filterContoso('5');
    await page.waitForFunction(() => [...document.querySelectorAll('main .alerts tbody tr')].length === 5, { timeout: 15000 });
    expect(await rows('main .incidents')).toBe(3); // three incidents: one page, no "Load more"
    expect(await page.$('main .incidents button')).toBeNull();
    await press('Load more', 'main .alerts');
    await page.waitForFunction(() => [...document.querySelectorAll('main .alerts tbody tr')].length === 8, { timeout: 15000 });
    expect(await text('main .alerts')).toContain('Showing 8, all there are');
    expect(await page.$('main .alerts button')).toBeNull();
    expect(await text('main .alerts')).toContain('alice@contoso.example');
    await shot('alerts');
  });

  it('an auditor sees only what an auditor may, an action with its audit entries, and verifies the audit log: intact, then tampered', async () => {
    await signIn(keys.auditor);
    expect(await text('#nav')).toMatch(/Actions[\s\S]*Audit/);
    expect(await text('#nav')).not.toMatch(/Find and act|Approvals|Tenants/);
    await go('#/audit');
    await waitText('main table', 'action.');
    // Paged: 5 entries, then 5 more after "Load more", in sequence.
    await page.select('main form.filters select[name=limit]', '5');
    await press('Filter');
    await page.waitForFunction(() => [...document.querySelectorAll('main .pager tbody tr')].length === 5, { timeout: 15000 });
    await press('Load more');
    await page.waitForFunction(() => [...document.querySelectorAll('main .pager tbody tr')].length === 10, { timeout: 15000 });
    const seqs = await page.$$eval('main .pager tbody tr td:first-child', (tds) => tds.map((td) => Number(td.innerText)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(10);
    await press('Verify the chain');
    await waitText('main .verify-result', /Chain intact: \d+ entries checked/);
    const verify = (await t.http.get('/v1/audit-log/verify').set(bearer(keys.auditor))).body;
    expect(await text('main .verify-result')).toContain(`${verify.checked} entries checked`);
    await shot('audit');
    // Times are in the viewer's zone, with UTC in the title.
    const title = await page.$eval('main time', (el) => el.getAttribute('title'));
    expect(title).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(UTC\)$/);

    // An entry altered behind Cordon's back (trigger off, as a superuser could): verify names the first bad entry.
    const entries = (await t.http.get(`/v1/audit-log?actionId=${rejectedAction}`).set(bearer(keys.auditor))).body.items as Array<{
      seq: number;
      event: string;
    }>;
    const target = entries.find((e) => e.event === 'action.rejected')!.seq;
    const db = t.app.get(DataSource);
    const tamper = async (sql: string, params: unknown[]) =>
      db.transaction(async (m) => {
        await m.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
        await m.query(sql, params);
        await m.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
      });
    const [row] = (await db.query('SELECT data FROM audit_log WHERE seq = $1', [target])) as Array<{ data: unknown }>;
    const original = typeof row.data === 'string' ? row.data : JSON.stringify(row.data);
    await tamper(`UPDATE audit_log SET data = jsonb_set(data, '{tampered}', 'true') WHERE seq = $1`, [target]);
    try {
      await press('Verify the chain');
      await waitText('main .verify-result', new RegExp(`Chain BROKEN at entry #${target}: hash does not match the entry`));
      await shot('audit-tampered');
    } finally {
      await tamper('UPDATE audit_log SET data = $2::jsonb WHERE seq = $1', [target, original]);
    }
    expect((await t.http.get('/v1/audit-log/verify').set(bearer(keys.auditor))).body).toMatchObject({ ok: true });

    // The action page, as an auditor: steps, Microsoft request ids, evidence and the audit entries proving it.
    await go(`#/actions/${aliceAction}`);
    await waitText('main', 'Audit entries');
    await waitText('main', 'action.step.succeeded');
    await waitText('main', 'Evidence');
  });

  it('ran with no script error and no CSP violation', () => {
    expect(problems).toEqual([]);
  });

  it('every page shot meets WCAG AA contrast (4.5:1, large text 3:1)', () => {
    expect(contrastFailures).toEqual([]);
  });

  async function waitForFinal(id: string) {
    for (let i = 0; i < 200; i++) {
      const res = await t.http.get(`/v1/actions/${id}`).set(bearer(keys.responder2));
      if (['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'].includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`action ${id} did not finish`);
  }
});
