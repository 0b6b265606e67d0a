import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../src/cli';
import { request } from './helpers';

/** The CLI prints exactly one JSON line on stdout, serves, and stops cleanly on SIGTERM. */

const root = join(__dirname, '..', '..', '..');

describe('cli', () => {
  it('parses its options', () => {
    expect(
      parseArgs(['--port', '9440', '--scenario=s.json', '--load-audit', 'a', '--load-audit', 'b', '--generate-audit', '1000', '--seed', 'abc', '--quiet']),
    ).toEqual({
      port: 9440,
      scenario: 's.json',
      loadAudit: ['a', 'b'],
      generateAudit: 1000,
      seed: 'abc',
      quiet: true,
    });
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--port', '-1'])).toThrow(/non-negative integer/);
  });

  it('prints one JSON line, serves HTTPS with the reported CA, and exits 0 on SIGTERM', async () => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'test/m365-simulator/src/cli.ts'), '--port', '0', '--generate-audit', '500'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const firstLine = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const info = JSON.parse(firstLine);
    expect(Object.keys(info)).toEqual(['baseUrls', 'caCertPath', 'tenants']);
    expect(Object.keys(info.baseUrls)).toEqual(['login', 'graph', 'manage', 'defender']);
    expect(info.tenants[0]).toMatchObject({ tenantId: expect.any(String), clientId: expect.any(String), clientSecret: expect.any(String), cloud: 'global' });
    const ca = readFileSync(info.caCertPath, 'utf8');
    const res = await request(ca, `${info.baseUrls.login}/${info.tenants[0].tenantId}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  }, 30_000);
});
