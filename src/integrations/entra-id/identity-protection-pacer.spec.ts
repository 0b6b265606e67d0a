import type { AppConfig } from '../../config/config';
import { IdentityProtectionPacer } from './identity-protection-pacer';

describe('IdentityProtectionPacer', () => {
  const pacer = () => new IdentityProtectionPacer({ entraTelemetry: { overlapMinutes: 0, identityProtectionIntervalMs: 200 } } as AppConfig);

  it("keeps one tenant's requests the interval apart, counted from the end of the previous one", async () => {
    const p = pacer();
    const starts: number[] = [];
    const ends: number[] = [];
    const request = (ms: number) => async () => {
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, ms));
      ends.push(Date.now());
    };
    await Promise.all([p.run('t1', request(50)), p.run('t1', request(10)), p.run('t1', request(10))]);
    expect(starts).toHaveLength(3);
    for (let i = 1; i < starts.length; i++) expect(starts[i] - ends[i - 1]).toBeGreaterThanOrEqual(195);
  });

  it('does not hold one tenant up for another', async () => {
    const p = pacer();
    await p.run('t1', async () => undefined);
    const before = Date.now();
    await p.run('t2', async () => undefined);
    expect(Date.now() - before).toBeLessThan(150);
  });

  it('lets the next request through after one that failed', async () => {
    const p = pacer();
    await expect(p.run('t1', async () => Promise.reject(new Error('429')))).rejects.toThrow('429');
    await expect(p.run('t1', async () => 'ok')).resolves.toBe('ok');
  });
});
