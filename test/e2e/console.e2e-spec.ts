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
import { graphWrites, registerSimTenant, simEnv, startDemoSimulator } from './support/sim-tenant';
import { bearer, createKey, startTestApp, TestApp } from './support/test-app';

const CHROMIUM = process.env.CORDON_CHROMIUM ?? '/usr/bin/chromium';
const CONTOSO_TID = '3c1b7a2e-9d4f-4e8a-b1c2-5d6e7f8a9b0c';
const ALICE = '0b7c1e2d-0003-4a00-8000-000000000003';
const BOB = '0b7c1e2d-0004-4a00-8000-000000000004';
const CAROL = '0b7c1e2d-0005-4a00-8000-000000000005';
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
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
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
    await page.goto(`${base}/console/`, { waitUntil: 'domcontentloaded' });
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

  it('an auditor sees only what an auditor may, an action with its audit entries, and verifies the audit log: intact, then tampered', async () => {
    await signIn(keys.auditor);
    expect(await text('#nav')).toMatch(/Actions[\s\S]*Audit/);
    expect(await text('#nav')).not.toMatch(/Find and act|Approvals|Tenants/);
    await go('#/audit');
    await waitText('main table', 'action.');
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

  async function waitForFinal(id: string) {
    for (let i = 0; i < 200; i++) {
      const res = await t.http.get(`/v1/actions/${id}`).set(bearer(keys.responder2));
      if (['succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled'].includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`action ${id} did not finish`);
  }
});
