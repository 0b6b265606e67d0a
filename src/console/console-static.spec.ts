import Fastify from 'fastify';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_CSP, consoleDirectory, registerConsole } from './console-static';

describe('the console static files', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is looked for in dist/console under the project root', () => {
    expect(consoleDirectory()).toBe(join(__dirname, '..', '..', 'dist', 'console'));
  });

  it('serves the built files with the strict CSP; /console redirects to /console/', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-console-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dir, 'app.js'), 'void 0;');
    const app = Fastify();
    registerConsole(app, dir);
    const page = await app.inject({ url: '/console/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('<title>x</title>');
    expect((await app.inject({ url: '/console/app.js' })).headers['content-type']).toMatch(/javascript/);
    const bare = await app.inject({ url: '/console' });
    expect([bare.statusCode, bare.headers.location]).toEqual([302, '/console/']);
    expect((await app.inject({ url: '/console/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/console/../package.json' })).statusCode).not.toBe(200);
    await app.close();
  });

  it('says how to build it when it was not built (a 404 problem, never a 5xx)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-console-empty-'));
    dirs.push(dir);
    const app = Fastify();
    registerConsole(app, dir);
    const res = await app.inject({ url: '/console/' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(res.json()).toMatchObject({ type: '/problems/not-found', detail: expect.stringContaining('npm run build') });
    await app.close();
  });
});
