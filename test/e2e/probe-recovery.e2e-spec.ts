import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { RunningSimulator, startSimulator } from '../m365-simulator/src';
import type { Scenario } from '../m365-simulator/src/types';
import { createOwnDatabase, OwnDatabase } from './support/own-database';
import { registerTenant, simApp, simEnv } from './support/sim-tenant';
import { bearer, startTestApp, TestApp, waitFor } from './support/test-app';

/**
 * A tenant whose capability probe was cut off by a crash: its row is still `pending` and its probe job
 * `active` (the state a killed worker leaves; pg-boss would hand it out again only once it expires,
 * 15 minutes later). The next start probes it again within a minute, once.
 */
const TENANT = randomUUID();
const CLIENT = randomUUID();
const SECRET = 'probe-recovery-app-secret-1234';

describe('a probe cut off by a crash is done again after the restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cordon-probe-recovery-'));
  let sim: RunningSimulator;
  let database: OwnDatabase | undefined;
  const apps: TestApp[] = [];
  let env: Record<string, string>;

  const start = async (workers: boolean) => {
    const t = await startTestApp({
      ...env,
      CORDON_DATA_DIR: dataDir,
      CORDON_WORKERS: String(workers),
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
    });
    apps.push(t);
    return t;
  };

  beforeAll(async () => {
    const scenario: Scenario = { tenants: [{ tenantId: TENANT, displayName: 'Crashed Probe', apps: [simApp(CLIENT, SECRET)] } as never] };
    sim = await startSimulator({ quiet: true, scenario });
    env = { ...simEnv(sim), CORDON_BOOTSTRAP_ADMIN_KEY: `cdn_${'p'.repeat(43)}` };
    // A database of its own: the restarted app probes every pending tenant it finds.
    database = await createOwnDatabase('cordon_probe_recovery');
  });
  afterAll(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    await sim?.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('probes the pending tenant within a minute of the start, once, without waiting for the dead job', async () => {
    // The first life: the tenant is registered and its probe job taken by a worker that then dies.
    const before = await start(false);
    const tenantId = await registerTenant(before, 'Crashed Probe', { tenantId: TENANT, clientId: CLIENT, secret: SECRET });
    const db = before.app.get<DataSource>(getDataSourceToken());
    const [taken] = await db.query(
      `UPDATE pgboss.job SET state = 'active', started_on = now() WHERE name = 'tenants.probe' AND data->>'tenantId' = $1 RETURNING id`,
      [tenantId],
    );
    expect(taken).toHaveLength(1);
    await before.close();

    const startedAt = Date.now();
    const after = await start(true);
    const caps = await waitFor(
      async () => (await after.http.get(`/v1/tenants/${tenantId}/capabilities`).set(bearer(after.adminKey)).expect(200)).body,
      (c) => c.connection !== 'pending',
      60_000,
    );
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    expect(caps.connection).toBe('connected');
    expect(caps.capabilities.length).toBeGreaterThan(0);

    const afterDb = after.app.get<DataSource>(getDataSourceToken());
    // The dead worker's job is still active: the probe came from the recovery, not from its expiry.
    expect(await afterDb.query(`SELECT state FROM pgboss.job WHERE id = $1`, [taken[0].id])).toEqual([{ state: 'active' }]);
    const recovery = await waitFor(
      () => afterDb.query(`SELECT state FROM pgboss.job WHERE name = 'tenants.probe' AND data->>'tenantId' = $1 AND (data->>'recovery')::boolean`, [tenantId]),
      (rows: Array<{ state: string }>) => rows.length === 1 && rows[0].state === 'completed',
    );
    expect(recovery).toEqual([{ state: 'completed' }]);
    const audit = (await after.http.get(`/v1/audit-log?tenantId=${tenantId}&event=tenant.connection.changed`).set(bearer(after.adminKey)).expect(200)).body
      .items;
    expect(audit.map((e: { data: unknown }) => e.data)).toEqual([{ from: 'pending', to: 'connected', detail: null }]);
  });

  it('does not queue a probe again for a tenant that is no longer pending', async () => {
    const again = await start(true);
    const db = again.app.get<DataSource>(getDataSourceToken());
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await db.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'tenants.probe' AND (data->>'recovery')::boolean`);
    expect(rows).toEqual([{ n: 1 }]);
  });
});
