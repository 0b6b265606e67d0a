/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HostResolver, ResolvedAddress } from '../../src/common/outbound-url';
import { verifySignature } from '../../src/webhooks/webhook-signature';
import { WebhooksService } from '../../src/webhooks/webhooks.service';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { RawRecord, Scenario } from '../m365-simulator/src/types';
import { requestOwnRun } from './support/collection-runs';
import { closeSimSuite, registerTenant, simApp, simEnv, UNTHROTTLED_GRAPH } from './support/sim-tenant';
import { allPages, bearer, createKey, expectProblem, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * The per-tenant outbound webhook against a local receiver: configuration (validated, audited, secret
 * never shown or logged), signed deliveries a receiver can verify, retries after a 500, no redirects
 * followed, nothing below the minimum severity, the delivery log, and removal.
 */

const MIN = 60_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const APP_SECRET = 'webhook-e2e-app-secret-1234';
const HOOK_SECRET = 'whsec-e2e-0123456789-abcdefghij';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A receiver on loopback (reachable only because the suite lists it in CORDON_WEBHOOK_ALLOWED_HOSTS): records every request and answers from a script (default 200). */
class Receiver {
  readonly requests: Received[] = [];
  script: number[] = [];
  always?: number;
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const status = this.script.shift() ?? this.always ?? 200;
        if (status >= 300 && status < 400) res.writeHead(status, { location: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/elsewhere` });
        else res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status >= 500 ? 'receiver is down' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function alert(nowMs: number, n: number, severity: string, extra: RawRecord = {}): RawRecord {
  const id = `wh${String(n).padStart(4, '0')}_${randomUUID().slice(0, 8)}`;
  return {
    id,
    providerAlertId: id,
    incidentId: '7001',
    status: 'new',
    severity,
    serviceSource: 'microsoftDefenderForEndpoint',
    title: `Webhook alert ${n} (${severity})`,
    createdDateTime: new Date(nowMs - 60 * MIN + n * 1000).toISOString(),
    lastUpdateDateTime: new Date(nowMs - 50 * MIN + n * 1000).toISOString(),
    ...extra,
  };
}

describe('outbound webhook for new and changed alerts and incidents', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  let receiverUrl: string;
  const receiver = new Receiver();
  const logLines: string[] = [];
  const nowMs = Date.now();
  // high, medium and a severity newer than Cordon knows are sent; low, informational and unknown are not.
  const alerts = [
    alert(nowMs, 1, 'high'),
    alert(nowMs, 2, 'medium'),
    alert(nowMs, 3, 'low'),
    alert(nowMs, 4, 'informational'),
    alert(nowMs, 5, 'unknown'),
    alert(nowMs, 6, 'critical'),
    alert(nowMs, 7, 'Medium'),
  ];
  const incidents = [
    {
      id: '7001',
      displayName: 'Webhook incident',
      severity: 'high',
      status: 'active',
      createdDateTime: new Date(nowMs - 60 * MIN).toISOString(),
      lastUpdateDateTime: new Date(nowMs - 40 * MIN).toISOString(),
    },
    {
      id: '7002',
      displayName: 'Quiet incident',
      severity: 'low',
      status: 'active',
      createdDateTime: new Date(nowMs - 60 * MIN).toISOString(),
      lastUpdateDateTime: new Date(nowMs - 40 * MIN).toISOString(),
    },
  ];
  const sent = new Set([alerts[0].id, alerts[1].id, alerts[5].id, alerts[6].id, '7001']);

  beforeAll(async () => {
    receiverUrl = await receiver.start();
    const scenario: Scenario = {
      tenants: [{ tenantId: TENANT, displayName: 'Webhook Tenant', apps: [simApp(CLIENT, APP_SECRET)], alerts, incidents } as never],
      graph: UNTHROTTLED_GRAPH,
    };
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp(
      {
        ...simEnv(sim),
        CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
        CORDON_WEBHOOK_RETRY_DELAY_S: '1',
        CORDON_WEBHOOK_MAX_ATTEMPTS: '3',
        CORDON_LOG_LEVEL: 'debug',
        // The one exception to the outbound rule: this receiver's host and port, nothing else on loopback.
        CORDON_WEBHOOK_ALLOWED_HOSTS: new URL(receiverUrl).host,
      },
      [],
      { logLines },
    );
    tenantId = await registerTenant(t, 'Webhook Tenant', { tenantId: TENANT, clientId: CLIENT, secret: APP_SECRET });
  });
  afterAll(async () => {
    await closeSimSuite(t, sim, [tenantId]);
    await receiver.stop();
  });

  const hook = () => `/v1/tenants/${tenantId}/webhook`;
  const deliveries = async (query = '') =>
    (await t.http.get(`${hook()}/deliveries?limit=1000${query}`).set(bearer(t.adminKey)).expect(200)).body.items as any[];
  const runAndWait = (stream: string) => requestOwnRun(t, tenantId, stream, (s) => expect(s.lastRun.status).toBe('succeeded'));

  it('validates the webhook and keeps it to admins of the tenant', async () => {
    expectProblem(await t.http.get(hook()).set(bearer(t.adminKey)), 404, 'not-found');
    const put = (body: Record<string, unknown>, key = t.adminKey) => t.http.put(hook()).set(bearer(key)).send(body);
    const invalid = async (body: Record<string, unknown>, field: string) => {
      const res = await put(body);
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    await invalid({ url: 'http://example.com/hook', secret: HOOK_SECRET }, 'url'); // http only for an allowed host
    await invalid({ url: 'ftp://127.0.0.1/hook', secret: HOOK_SECRET }, 'url');
    await invalid({ url: 'https://user:pw@example.com/hook', secret: HOOK_SECRET }, 'url');
    await invalid({ url: 'not a url', secret: HOOK_SECRET }, 'url');
    // Nothing inside the network, however it is spelled, unless the allow-list names that host and port.
    const port = Number(new URL(receiverUrl).port);
    for (const [url, reason] of [
      [`http://127.0.0.1:${port + 1}/hook`, /must be https/],
      [`https://127.0.0.1:${port + 1}/hook`, /loopback/],
      ['https://0x7f000001/hook', /127\.0\.0\.1 is a loopback/],
      ['https://2130706433/hook', /loopback/],
      ['https://localhost/hook', /localhost resolves to .*loopback/],
      ['https://10.0.0.5/hook', /private/],
      ['https://192.168.1.10/hook', /private/],
      ['https://169.254.169.254/latest/meta-data', /link-local/],
      ['https://100.64.0.1/hook', /CGNAT/],
      ['https://[::1]/hook', /loopback/],
      ['https://[::ffff:127.0.0.1]/hook', /loopback \(IPv4 embedded in IPv6\)/],
      ['https://[fd12:3456::1]/hook', /private/],
      ['https://[fe80::1]/hook', /link-local/],
      ['https://224.0.0.1/hook', /multicast/],
      ['https://0.0.0.0/hook', /unspecified/],
    ] as const) {
      const res = await put({ url, secret: HOOK_SECRET });
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toEqual([{ field: 'url', message: expect.stringMatching(reason) }]);
    }
    await invalid({ url: `${receiverUrl}/hook`, secret: 'short' }, 'secret');
    await invalid({ url: `${receiverUrl}/hook`, secret: HOOK_SECRET, minSeverity: 'critical' }, 'minSeverity');
    await invalid({ url: `${receiverUrl}/hook`, secret: HOOK_SECRET, extra: true }, 'extra');
    const analyst = await createKey(t, ['analyst', 'responder']);
    expectProblem(await put({ url: `${receiverUrl}/hook`, secret: HOOK_SECRET }, analyst.key), 403, 'forbidden');
    const otherAdmin = await createKey(t, ['admin'], { tenantIds: [randomUUID()] });
    expectProblem(await put({ url: `${receiverUrl}/hook`, secret: HOOK_SECRET }, otherAdmin.key), 404, 'not-found');
    expectProblem(await t.http.get(hook()).set(bearer(t.adminKey)), 404, 'not-found'); // nothing was stored
  });

  it('sets the webhook (audited, secret never returned nor logged)', async () => {
    const res = await t.http
      .put(hook())
      .set(bearer(t.adminKey))
      .send({ url: `${receiverUrl}/hook`, secret: HOOK_SECRET, minSeverity: 'medium' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenantId, url: `${receiverUrl}/hook`, minSeverity: 'medium', secretSet: true });
    expect(JSON.stringify(res.body)).not.toContain(HOOK_SECRET);
    const analyst = await createKey(t, ['analyst']);
    expect((await t.http.get(hook()).set(bearer(analyst.key)).expect(200)).body).toEqual(res.body);
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=tenant.webhook.configured`).set(bearer(t.adminKey)).expect(200)).body.items;
    expect(audit).toHaveLength(1);
    expect(audit[0].data).toEqual({ before: null, after: { url: `${receiverUrl}/hook`, minSeverity: 'medium' }, secretChanged: true });
    expect(JSON.stringify(audit)).not.toContain(HOOK_SECRET);
  });

  it('delivers new alerts and incidents at or above the minimum severity, signed, retrying after a 500', async () => {
    receiver.script = [500];
    await runAndWait('alerts');
    await runAndWait('incidents');
    const log = await waitFor(
      () => deliveries(),
      (items) => items.length === sent.size && items.every((d) => d.status === 'delivered'),
    );
    expect(new Set(log.map((d) => d.objectId))).toEqual(sent);
    const retried = log.filter((d) => d.attempts === 2);
    expect(retried).toHaveLength(1);
    expect(log.filter((d) => d.attempts === 1)).toHaveLength(sent.size - 1);
    expect(log.every((d) => d.lastStatusCode === 200 && d.deliveredAt && d.url === `${receiverUrl}/hook`)).toBe(true);

    expect(receiver.requests).toHaveLength(sent.size + 1);
    expect(receiver.requests[0].headers['cordon-delivery']).toBe(retried[0].id); // the one that got the 500
    for (const r of receiver.requests) {
      // What a receiver does: recompute the HMAC over `<timestamp>.<raw body>` with the shared secret.
      expect(
        verifySignature(HOOK_SECRET, r.headers['cordon-signature'] as string, r.headers['cordon-timestamp'] as string, r.body, Math.floor(Date.now() / 1000)),
      ).toBe(true);
      expect(
        verifySignature(
          'another-secret-of-some-length',
          r.headers['cordon-signature'] as string,
          r.headers['cordon-timestamp'] as string,
          r.body,
          Math.floor(Date.now() / 1000),
        ),
      ).toBe(false);
      expect(
        verifySignature(
          HOOK_SECRET,
          r.headers['cordon-signature'] as string,
          r.headers['cordon-timestamp'] as string,
          r.body.replace('"data"', '"data" '),
          Math.floor(Date.now() / 1000),
        ),
      ).toBe(false);
      const body = JSON.parse(r.body);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['cordon-delivery']).toBe(body.id);
      expect(r.headers['cordon-event']).toBe(body.event);
      expect(body.tenantId).toBe(tenantId);
      expect(['medium', 'high', 'critical']).toContain(body.data.severity);
    }
    const retriedBodies = receiver.requests.filter((r) => r.headers['cordon-delivery'] === retried[0].id);
    expect(retriedBodies).toHaveLength(2);
    expect(retriedBodies[1].body).toBe(retriedBodies[0].body); // the same bytes every attempt
    const events = receiver.requests.slice(1).map((r) => JSON.parse(r.body));
    expect(
      events
        .filter((e) => e.event === 'alert.created')
        .map((e) => e.data.id)
        .sort(),
    ).toEqual([alerts[0].id, alerts[1].id, alerts[5].id, alerts[6].id].sort());
    const inc = events.find((e) => e.event === 'incident.created');
    expect(inc.data).toMatchObject({ id: '7001', severity: 'high', tenantId });
    const created = events.find((e) => e.data.id === alerts[0].id);
    expect(created.data).toMatchObject({ severity: 'high', serviceSource: 'microsoftDefenderForEndpoint', raw: alerts[0] });
  });

  it('sends a changed alert as alert.updated, and nothing for a change below the threshold or a re-listed one', async () => {
    const before = receiver.requests.length;
    const later = new Date(Date.now() + 5 * MIN).toISOString();
    const tenant = sim.context.findTenant(TENANT)!;
    Object.assign(
      tenant.alerts.find((a) => a.id === alerts[1].id)!,
      { status: 'resolved', lastUpdateDateTime: later },
    );
    Object.assign(
      tenant.alerts.find((a) => a.id === alerts[2].id)!,
      { status: 'resolved', lastUpdateDateTime: later },
    );
    await runAndWait('alerts');
    await waitFor(
      async () => receiver.requests.length,
      (n) => n > before,
    );
    await runAndWait('alerts'); // the overlap lists the same versions again: no notification
    await new Promise((r) => setTimeout(r, 2500));
    const fresh = receiver.requests.slice(before).map((r) => JSON.parse(r.body));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ event: 'alert.updated', data: { id: alerts[1].id, status: 'resolved', lastUpdateDateTime: later } });
  });

  it('does not follow a redirect: the attempt fails and, out of attempts, the delivery is marked failed', async () => {
    receiver.always = 302;
    const before = receiver.requests.length;
    const tenant = sim.context.findTenant(TENANT)!;
    Object.assign(
      tenant.alerts.find((a) => a.id === alerts[0].id)!,
      { status: 'inProgress', lastUpdateDateTime: new Date(Date.now() + 10 * MIN).toISOString() },
    );
    try {
      await runAndWait('alerts');
      const failed = await waitFor(
        () => deliveries('&status=failed'),
        (items) => items.length === 1,
        60000,
      );
      expect(failed[0]).toMatchObject({
        event: 'alert.updated',
        objectId: alerts[0].id,
        attempts: 3,
        lastStatusCode: 302,
        lastError: expect.stringMatching(/redirect .* not followed/),
      });
    } finally {
      receiver.always = undefined;
    }
    const fresh = receiver.requests.slice(before);
    expect(fresh).toHaveLength(3);
    expect(fresh.every((r) => r.path === '/hook')).toBe(true); // never the Location
    const text = (await t.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(new RegExp(`cordon_webhook_delivery_attempts_total\\{tenant="${tenantId}",outcome="failed"\\} 1`));
    expect(text).toMatch(new RegExp(`cordon_webhook_delivery_attempts_total\\{tenant="${tenantId}",outcome="delivered"\\} ${sent.size + 1}`));
  });

  it('pages the delivery log and shows it to analysts, not auditors', async () => {
    const all = await deliveries();
    const paged = await allPages<any>(t, `${hook()}/deliveries`, 2);
    expect(paged.map((d) => d.id)).toEqual(all.map((d) => d.id));
    expect(all.length).toBe(sent.size + 2);
    const auditor = await createKey(t, ['auditor']);
    expectProblem(await t.http.get(`${hook()}/deliveries`).set(bearer(auditor.key)), 403, 'forbidden');
    expectProblem(await t.http.get(`${hook()}/deliveries?status=lost`).set(bearer(t.adminKey)), 400, 'validation-failed');
  });

  it('checks the host again at each delivery: a name that was public when set and is loopback now is not sent to', async () => {
    const resolver = t.app.get(HostResolver);
    const port = new URL(receiverUrl).port;
    // The resolver seam stands in for DNS: rebind.test answers a public address, then loopback.
    const answers: Record<string, string> = { 'rebind.test': '93.184.216.34', 'internal.test': '10.20.30.40' };
    const lookup = jest.spyOn(resolver, 'lookup').mockImplementation(async (host: string): Promise<ResolvedAddress[]> => {
      if (!answers[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return [{ address: answers[host], family: 4 }];
    });
    const before = receiver.requests.length;
    try {
      const internal = await t.http
        .put(hook())
        .set(bearer(t.adminKey))
        .send({ url: `https://internal.test:${port}/hook`, secret: HOOK_SECRET });
      expectProblem(internal, 400, 'validation-failed');
      expect(internal.body.errors[0].message).toMatch(/internal\.test resolves to 10\.20\.30\.40, which is a private address/);
      expectProblem(await t.http.put(hook()).set(bearer(t.adminKey)).send({ url: `https://nowhere.test/hook`, secret: HOOK_SECRET }), 400, 'validation-failed');

      await t.http
        .put(hook())
        .set(bearer(t.adminKey))
        .send({ url: `https://rebind.test:${port}/hook`, secret: HOOK_SECRET, minSeverity: 'medium' })
        .expect(200);
      answers['rebind.test'] = '127.0.0.1'; // before anything could be delivered
      const tenant = sim.context.findTenant(TENANT)!;
      Object.assign(
        tenant.alerts.find((a) => a.id === alerts[6].id)!,
        { status: 'inProgress', lastUpdateDateTime: new Date(Date.now() + 15 * MIN).toISOString() },
      );
      await runAndWait('alerts');
      const failed = await waitFor(
        () => deliveries('&status=failed'),
        (items) => items.some((d) => d.objectId === alerts[6].id),
        60000,
      );
      expect(failed.find((d) => d.objectId === alerts[6].id)).toMatchObject({
        attempts: 3,
        lastStatusCode: null,
        url: `https://rebind.test:${port}/hook`,
        lastError: expect.stringMatching(/^not sent: url host rebind\.test resolves to 127\.0\.0\.1, which is a loopback address/),
      });
      expect(lookup.mock.calls.filter(([host]) => host === 'rebind.test').length).toBe(4); // when set, then at each of the 3 attempts
      expect(receiver.requests.length).toBe(before); // nothing reached the receiver on loopback
    } finally {
      lookup.mockRestore();
    }
    await t.http
      .put(hook())
      .set(bearer(t.adminKey))
      .send({ url: `${receiverUrl}/hook`, secret: HOOK_SECRET, minSeverity: 'medium' })
      .expect(200);
  });

  it('removes the webhook (audited): later changes are not sent', async () => {
    await t.http.delete(hook()).set(bearer(t.adminKey)).expect(204);
    expectProblem(await t.http.get(hook()).set(bearer(t.adminKey)), 404, 'not-found');
    expectProblem(await t.http.delete(hook()).set(bearer(t.adminKey)), 404, 'not-found');
    const audit = (await t.http.get(`/v1/audit-log?tenantId=${tenantId}&event=tenant.webhook.removed`).set(bearer(t.adminKey)).expect(200)).body.items;
    expect(audit[0].data).toEqual({ before: { url: `${receiverUrl}/hook`, minSeverity: 'medium' } });
    const count = (await deliveries()).length;
    const tenant = sim.context.findTenant(TENANT)!;
    Object.assign(
      tenant.alerts.find((a) => a.id === alerts[5].id)!,
      { status: 'resolved', lastUpdateDateTime: new Date(Date.now() + 20 * MIN).toISOString() },
    );
    await runAndWait('alerts');
    expect((await deliveries()).length).toBe(count);
  });

  it('prunes finished deliveries older than the retention', async () => {
    const count = (await deliveries()).length;
    expect(count).toBeGreaterThan(0);
    const service = t.app.get(WebhooksService);
    expect(await service.prune(new Date())).toBe(0); // all younger than the retention
    expect(await service.prune(new Date(Date.now() + 100 * 86_400_000))).toBe(count);
    expect(await deliveries()).toEqual([]);
  });

  it('never wrote the webhook secret to a log line', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes(HOOK_SECRET))).toEqual([]);
  });
});
