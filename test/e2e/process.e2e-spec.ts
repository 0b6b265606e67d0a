import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { shutdownGracefully } from '../../src/lifecycle';
import pino from 'pino';
import { bearer, startTestApp, TEST_ENCRYPTION_KEY } from './support/test-app';
import { spawnEntry, waitForOutput } from './support/spawn';

describe('the service process', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cordon-proc-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits 1 on invalid configuration, listing every problem on its own line, without a stack trace', async () => {
    const run = spawnEntry('main', { PORT: 'eighty', CORDON_WORKERS: 'sometimes', CORDON_LOG_LEVEL: 'loud', CORDON_BOOTSTRAP_ADMIN_KEY: 'hunter2' });
    expect(await run.exited).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines[0]).toBe('Cordon cannot start: invalid configuration');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- CORDON_LOG_LEVEL must be one of/),
      expect.stringMatching(/^ {2}- CORDON_BOOTSTRAP_ADMIN_KEY must be "cdn_"/),
      expect.stringMatching(/^ {2}- PORT must be an integer/),
      expect.stringMatching(/^ {2}- CORDON_WORKERS must be true or false/),
    ]);
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(run.stderr()).not.toContain('hunter2');
  });

  it('starts with no configuration, prints a working admin key once, and exits 0 on SIGTERM', async () => {
    const run = spawnEntry('main', {
      PORT: '0',
      HOST: '127.0.0.1',
      CORDON_DATA_DIR: dataDir,
      DATABASE_URL: process.env.DATABASE_URL,
      CORDON_ENCRYPTION_KEY: process.env.DATABASE_URL ? TEST_ENCRYPTION_KEY : undefined,
    });
    try {
      const [, port] = await waitForOutput(run.stderr, /Cordon listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const key = process.env.DATABASE_URL ? undefined : (await waitForOutput(run.stdout, /(cdn_[A-Za-z0-9_-]{43})/))[1];
      const http = request(`http://127.0.0.1:${port}`);
      await http.get('/health/ready').expect(200);
      if (key) {
        const created = await http
          .post('/v1/api-keys')
          .set(bearer(key))
          .send({ name: 'first', roles: ['responder'] });
        expect(created.status).toBe(201);
      }
      expect(run.stderr()).not.toMatch(/cdn_[A-Za-z0-9_-]{43}/); // the key goes to stdout only, never the log
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toContain('shutdown complete');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('finishes an in-flight request on shutdown and refuses new connections', async () => {
    const t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.getHttpServer().address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const inFlight = request(base).get('/v1/_test/slow').set(bearer(t.adminKey));
    const pending = new Promise<{ status: number; body: unknown }>((resolve, reject) => inFlight.end((err, res) => (err ? reject(err) : resolve(res))));
    await new Promise((r) => setTimeout(r, 300));
    const code = await shutdownGracefully(t.app, 10, pino({ level: 'silent' }));
    const res = await pending;
    expect(code).toBe(0);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ done: true });
    await expect(request(base).get('/health/live')).rejects.toThrow(/ECONNREFUSED/);
  });
});
