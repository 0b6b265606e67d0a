/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON response bodies field by field */
import { randomUUID } from 'node:crypto';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { bearer, createKey, expectProblem, startTestApp, TestApp, waitFor as waitUntil } from './support/test-app';

/**
 * Secure Score as a configuration audit: the daily snapshot collected through the collection engine,
 * control profiles read to the last page, a re-run storing nothing twice, and the diff between two
 * days (score delta, controls whose score or state changed).
 */

const DAY = 86_400_000;
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'secure-score-e2e-secret-1234';
const EXTRA_PROFILES = 240; // with the three named ones, more than one page of 200

const dayStart = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString();

function score(at: string, current: number, controls: Array<[string, number]>): Record<string, unknown> {
  return {
    id: `${TENANT}_${at.slice(0, 10)}`,
    azureTenantId: TENANT,
    activeUserCount: 8,
    createdDateTime: at,
    currentScore: current,
    maxScore: 120,
    licensedUserCount: 10,
    enabledServices: ['HasExchange'],
    averageComparativeScores: [{ basis: 'AllTenants', averageScore: 39.2 }],
    controlScores: controls.map(([controlName, s]) => ({ controlCategory: 'Identity', controlName, score: s, description: controlName })),
  };
}

function profile(id: string, maxScore: number, states: Array<[string, string]>, rank: number): Record<string, unknown> {
  return {
    id,
    azureTenantId: TENANT,
    title: `Control ${id}`,
    controlCategory: 'Identity',
    maxScore,
    rank,
    service: 'AzureAD',
    tier: 'Core',
    deprecated: false,
    actionType: 'Config',
    controlStateUpdates: states.map(([state, updatedDateTime]) => ({
      assignedTo: '',
      comment: '',
      state,
      updatedBy: 'admin@contoso.example',
      updatedDateTime,
    })),
  };
}

/** These runs take longer than most: a minute. */
const waitFor = <T>(read: () => Promise<T>, done: (v: T) => boolean) => waitUntil(read, done, 60000);

describe('Secure Score snapshots and their diff', () => {
  let sim: RunningSimulator;
  let t: TestApp;
  let tenantId: string;
  const yesterday = dayStart(Date.now() - DAY);
  const today = dayStart(Date.now());

  beforeAll(async () => {
    const profiles = [
      profile('MFARegistrationV2', 9, [['Default', yesterday]], 1),
      profile('BlockLegacyAuthentication', 8, [['Default', yesterday]], 2),
      profile('SelfServicePasswordReset', 1, [['Reviewed', yesterday]], 3),
      ...Array.from({ length: EXTRA_PROFILES }, (_, i) => profile(`Extra${String(i).padStart(3, '0')}`, 1, [], 10 + i)),
    ];
    const scenario = {
      tenants: [
        {
          tenantId: TENANT,
          displayName: 'Secure Score',
          apps: [{ clientId: CLIENT, displayName: 'Cordon', clientSecrets: [SECRET], certificates: [], directoryRoles: [] }],
          secureScores: [
            score(yesterday, 40, [
              ['MFARegistrationV2', 5],
              ['BlockLegacyAuthentication', 0],
              ['SelfServicePasswordReset', 1],
            ]),
          ],
          secureScoreControlProfiles: profiles,
        },
      ],
      graph: { throttling: { identityProtectionPerSecond: 0, reportsPer10Seconds: 0, securityPerMinute: 0 } },
    } as unknown as Scenario;
    sim = await startSimulator({ quiet: true, scenario });
    t = await startTestApp({
      CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(sim.baseUrls),
      CORDON_MICROSOFT_CA_FILE: sim.caCertPath,
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_MICROSOFT_MAX_RETRIES: '2',
    });
    const res = await t.http
      .post('/v1/tenants')
      .set(bearer(t.adminKey))
      .send({ displayName: 'Secure Score', tenantId: TENANT, cloud: 'global', clientId: CLIENT, credential: { type: 'secret', secret: SECRET } });
    expect(res.status).toBe(201);
    tenantId = res.body.id;
    await t.http.post(`/v1/tenants/${tenantId}/capabilities/refresh`).set(bearer(t.adminKey)).expect(200);
  });
  afterAll(async () => {
    if (t && tenantId) await t.http.delete(`/v1/tenants/${tenantId}`).set(bearer(t.adminKey));
    await t?.close();
    await sim?.stop();
  });

  const view = async () =>
    ((await t.http.get(`/v1/tenants/${tenantId}/collection`).set(bearer(t.adminKey)).expect(200)).body.sources as any[]).find(
      (s) => s.stream === 'SecureScore',
    );
  async function runAndWait(): Promise<any> {
    const asked = Date.now() - 5;
    expect((await t.http.post(`/v1/tenants/${tenantId}/collection/SecureScore/run`).set(bearer(t.adminKey))).status).toBe(202);
    return waitFor(view, (s) => s.lastRun?.finishedAt && Date.parse(s.lastRun.finishedAt) >= asked);
  }
  const secureScore = (key = t.adminKey) => t.http.get(`/v1/tenants/${tenantId}/secure-score`).set(bearer(key));

  it('answers 404 before the first snapshot, and is a source of its own in the collection view', async () => {
    // The first scheduled run may already have stored it; only before that is it a 404.
    const first = await secureScore();
    if (first.status !== 200) expectProblem(first, 404, 'not-found');
    expect(await view()).toMatchObject({ source: 'secure-score', state: 'active', capability: 'available' });
    const auditor = await createKey(t, ['auditor']);
    expectProblem(await secureScore(auditor.key), 403, 'forbidden');
    expectProblem(await t.http.get(`/v1/tenants/${randomUUID()}/secure-score`).set(bearer(t.adminKey)), 404, 'not-found');
  });

  it("stores the day's snapshot with every control profile (paged to the end)", async () => {
    const s = await runAndWait();
    expect(s.lastRun.status).toBe('succeeded');
    expect(s.cursor).toBe(new Date(yesterday).toISOString());
    const body = (await secureScore().expect(200)).body;
    expect(body).toMatchObject({
      tenantId,
      previous: null,
      change: null,
      latest: { scoredAt: new Date(yesterday).toISOString(), currentScore: 40, maxScore: 120, percentage: 33.33 },
    });
    expect(body.latest.controls).toHaveLength(3 + EXTRA_PROFILES);
    expect(body.latest.controls.find((c: any) => c.name === 'MFARegistrationV2')).toEqual({
      name: 'MFARegistrationV2',
      title: 'Control MFARegistrationV2',
      category: 'Identity',
      score: 5,
      maxScore: 9,
      state: 'Default',
    });
    const pages = sim.journal.list({ host: 'graph', path: '/security/secureScoreControlProfiles' });
    expect(pages.some((e) => new URLSearchParams(e.query).has('$skiptoken'))).toBe(true);
  });

  it("stores nothing again until Microsoft has a new day's score (one request per run)", async () => {
    const since = sim.journal.lastSeq();
    const s = await runAndWait();
    expect(s.lastRun).toMatchObject({ status: 'succeeded', new: 0 });
    // Only the latest score was read (the capability probe reads it the same way); no profiles.
    const calls = sim.journal.list({ host: 'graph', path: '/security/secure', since });
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.every((e) => e.path === '/v1.0/security/secureScores' && new URLSearchParams(e.query).get('$top') === '1')).toBe(true);
  });

  it('reports the change since the previous snapshot: score delta and controls whose score or state changed', async () => {
    const tenant = sim.context.tenants.get(TENANT)!;
    tenant.secureScores.unshift(
      score(today, 47.5, [
        ['MFARegistrationV2', 9],
        ['BlockLegacyAuthentication', 0],
        ['SelfServicePasswordReset', 1],
        ['NewControl', 2],
      ]),
    );
    const legacy = tenant.secureScoreControlProfiles.find((p) => p.id === 'BlockLegacyAuthentication')!;
    (legacy.controlStateUpdates as unknown[]).push({
      assignedTo: '',
      comment: 'handled by a third party',
      state: 'Ignored',
      updatedBy: 'admin@contoso.example',
      updatedDateTime: today,
    });
    // Throttled once on the way (Retry-After honoured in the same run).
    sim.faults.add({
      host: 'graph',
      method: 'GET',
      pathPattern: '/v1.0/security/secureScoreControlProfiles',
      times: 1,
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
    } as never);
    const s = await runAndWait();
    expect(s.lastRun).toMatchObject({ status: 'succeeded', new: 1 });
    const body = (await secureScore().expect(200)).body;
    expect(body.latest).toMatchObject({ scoredAt: new Date(today).toISOString(), currentScore: 47.5 });
    expect(body.previous).toMatchObject({ scoredAt: new Date(yesterday).toISOString(), currentScore: 40 });
    expect(body.change.scoreDelta).toBe(7.5);
    expect(body.change.maxScoreDelta).toBe(0);
    expect(body.change.controls).toEqual([
      {
        name: 'BlockLegacyAuthentication',
        title: 'Control BlockLegacyAuthentication',
        category: 'Identity',
        before: { score: 0, state: 'Default' },
        after: { score: 0, state: 'Ignored' },
      },
      {
        name: 'MFARegistrationV2',
        title: 'Control MFARegistrationV2',
        category: 'Identity',
        before: { score: 5, state: 'Default' },
        after: { score: 9, state: 'Default' },
      },
      { name: 'NewControl', title: null, category: 'Identity', before: null, after: { score: 2, state: null } },
    ]);
  });
});
