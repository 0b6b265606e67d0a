import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../../src/auth/api-key-secret';
import { RunningSimulator, startSimulator } from '../../m365-simulator/src';
import type { FaultSpec } from '../../m365-simulator/src/faults';
import type { Scenario } from '../../m365-simulator/src/types';
import { closeSimSuite, registerTenant, simEnv, SuiteTenant } from './sim-tenant';
import { spawnEntry } from './spawn';
import { AdminCaller, bearer, startTestApp, TEST_ENCRYPTION_KEY, TestApp, waitFor } from './test-app';

/** A stream as `GET /v1/tenants/{id}/collection` lists it; tests read its other fields as they need them. */
export interface StreamState {
  source: string;
  stream: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a response body, read field by field
  [field: string]: any;
}

export interface CollectionStatus {
  sources: StreamState[];
}

export async function collectionStatus(t: AdminCaller, tenantId: string): Promise<CollectionStatus> {
  return (await t.http.get(`/v1/tenants/${tenantId}/collection`).set(bearer(t.adminKey)).expect(200)).body;
}

export function streamOf(body: CollectionStatus, stream: string): StreamState {
  return body.sources.find((s) => s.stream === stream)!;
}

async function askForRun(t: AdminCaller, tenantId: string, stream: string): Promise<void> {
  expect((await t.http.post(`/v1/tenants/${tenantId}/collection/${stream}/run`).set(bearer(t.adminKey))).status).toBe(202);
}

/**
 * Asks for a run of each stream and waits until each has a run that finished after the request: any
 * run, since a scheduled one may have got there first and taken the request's place.
 */
export async function requestRuns(t: AdminCaller, tenantId: string, streams: string[], timeoutMs = 45000): Promise<CollectionStatus> {
  const asked = Date.now() - 5;
  for (const s of streams) await askForRun(t, tenantId, s);
  return waitFor(
    () => collectionStatus(t, tenantId),
    (b) =>
      streams.every((s) => {
        const run = streamOf(b, s).lastRun;
        return run && run.finishedAt && Date.parse(run.finishedAt) >= asked;
      }),
    timeoutMs,
  );
}

/**
 * Asks for a run of `stream` and waits (20 s) for a run started after the request to finish, then
 * `check`s it. A scheduled run holding the lease swallows the request, so it asks again, up to 4 times
 * in all, while the wait or the check fails.
 */
export async function requestOwnRun(t: AdminCaller, tenantId: string, stream: string, check: (s: StreamState) => void = () => undefined): Promise<StreamState> {
  for (let attempt = 0; ; attempt++) {
    const asked = Date.now() - 5;
    await askForRun(t, tenantId, stream);
    try {
      const body = await waitFor(
        () => collectionStatus(t, tenantId),
        (b) => {
          const run = streamOf(b, stream).lastRun;
          return run && run.finishedAt && Date.parse(run.startedAt) >= asked;
        },
        20000,
      );
      check(streamOf(body, stream));
      return streamOf(body, stream);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

const LEASE_S = 3;

/**
 * A collection run killed mid-way, for the crash suites: the run is queued by an app with no worker,
 * a worker process (the built service) picks it up and is SIGKILLed part-way, and an app started
 * afterwards on the same database and data directory looks at what is left and runs it again. Every
 * process shares one admin key and a short lease, so a rerun can take over soon after the kill.
 */
export class CrashHarness {
  readonly adminKey = generateApiKey();
  sim!: RunningSimulator;
  /** The app started after the kill. */
  app?: TestApp;
  tenantId?: string;
  private dataDir?: string;

  /** `env`: the suite's own settings, on top of a daily schedule (so only the runs asked for run). */
  constructor(private readonly env: Record<string, string> = {}) {}

  async start(scenario: Scenario, dataDirPrefix: string): Promise<void> {
    this.dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
    this.sim = await startSimulator({ quiet: true, scenario });
  }

  async stop(): Promise<void> {
    await closeSimSuite(this.app, this.sim, [this.tenantId]);
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private serviceEnv(): Record<string, string> {
    return {
      CORDON_DATA_DIR: this.dataDir!,
      CORDON_BOOTSTRAP_ADMIN_KEY: this.adminKey,
      ...simEnv(this.sim),
      CORDON_COLLECTION_INTERVAL_MINUTES: '1440',
      CORDON_COLLECTION_LEASE_S: String(LEASE_S),
      ...this.env,
    };
  }

  /** Registers the tenant and queues a run of `stream` from an app with no worker: only the worker to be killed runs it. */
  async queueRun(displayName: string, tenant: SuiteTenant, stream: string, prepare?: (setup: TestApp, tenantId: string) => Promise<void>): Promise<string> {
    const setup = await startTestApp({ ...this.serviceEnv(), CORDON_WORKERS: 'false' });
    const tenantId = await registerTenant(setup, displayName, tenant);
    this.tenantId = tenantId;
    await prepare?.(setup, tenantId);
    await setup.http.post(`/v1/tenants/${tenantId}/collection/${stream}/run`).set(bearer(this.adminKey)).expect(202);
    await setup.close();
    return tenantId;
  }

  /**
   * Starts a worker process with `slow` injected, so that it is caught mid-run, and SIGKILLs it as soon
   * as `done()` (polled every 20 ms) reaches `atLeast` of `unit`, failing after 60 s.
   */
  async killWorkerAfter(slow: FaultSpec, done: () => number, atLeast: number, unit: string): Promise<void> {
    const fault = this.sim.faults.add(slow);
    const worker = spawnEntry('worker', {
      ...this.serviceEnv(),
      DATABASE_URL: process.env.DATABASE_URL,
      CORDON_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      CORDON_LOG_LEVEL: 'warn',
    });
    try {
      const until = Date.now() + 60000;
      while (done() < atLeast) {
        if (Date.now() > until) throw new Error(`the worker got through ${done()} ${unit} in 60 s; stderr:\n${worker.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      worker.child.kill('SIGKILL');
    }
    await worker.exited;
    this.sim.faults.remove(fault.id);
  }

  /** The app again, on the database and data directory the killed worker left. */
  async restart(): Promise<TestApp> {
    this.app = await startTestApp(this.serviceEnv());
    return this.app;
  }

  async stream(name: string): Promise<StreamState> {
    return streamOf(await collectionStatus(this.app!, this.tenantId!), name);
  }

  /** Once the killed worker's lease has lapsed, asks for a run and waits (60 s) for a run started after the request to finish. */
  async rerunAfterLease(name: string): Promise<StreamState> {
    await new Promise((r) => setTimeout(r, LEASE_S * 1000 + 100));
    const asked = Date.now();
    await this.app!.http.post(`/v1/tenants/${this.tenantId}/collection/${name}/run`).set(bearer(this.adminKey)).expect(202);
    return waitFor(
      () => this.stream(name),
      (view) => Boolean(view.lastRun && Date.parse(view.lastRun.startedAt) >= asked - 5 && view.lastRun.finishedAt),
      60000,
    );
  }
}
