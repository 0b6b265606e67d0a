import { defenderModule } from '../src/defender';
import { takeRateLimitSlot, type RateLimitState } from '../src/defender/rate-limit';
import { device, FakeSim, tenant } from './defender-support/fake-context';

/** 100 calls/min and 1,500 calls/hour per action API; 429 with Retry-After (microsoft-notes §5.3, §5.5, M20). */
describe('Defender rate limits', () => {
  describe('sliding windows', () => {
    const limit = { perMinute: 3, perHour: 5 };

    it('refuses the call over the minute budget with the seconds until a slot frees', () => {
      const state: RateLimitState = new Map();
      expect(takeRateLimitSlot(state, 'a', limit, 0)).toBeUndefined();
      expect(takeRateLimitSlot(state, 'a', limit, 10_000)).toBeUndefined();
      expect(takeRateLimitSlot(state, 'a', limit, 20_500)).toBeUndefined();
      expect(takeRateLimitSlot(state, 'a', limit, 30_000)).toBe(30); // the call at 0 leaves at 60 s
      expect(takeRateLimitSlot(state, 'a', limit, 59_999)).toBe(1);
      expect(takeRateLimitSlot(state, 'a', limit, 60_000)).toBeUndefined();
      expect(takeRateLimitSlot(state, 'a', limit, 60_001)).toBe(10); // next frees at 70 s
      expect(takeRateLimitSlot(state, 'b', limit, 60_001)).toBeUndefined(); // another API
    });

    it('refuses the call over the hour budget until the oldest call is an hour old', () => {
      const state: RateLimitState = new Map();
      for (let i = 0; i < 5; i++) expect(takeRateLimitSlot(state, 'a', limit, i * 120_000)).toBeUndefined();
      expect(takeRateLimitSlot(state, 'a', limit, 600_000)).toBe(3000);
      expect(takeRateLimitSlot(state, 'a', limit, 3_600_000)).toBeUndefined();
    });
  });

  describe('over the API', () => {
    const WS42 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
    let sim: FakeSim;
    let token: string;

    beforeEach(() => {
      sim = new FakeSim(defenderModule, [tenant('t1', [device()]), tenant('t2', [device()])]);
      token = sim.token('t1', { tenantId: 't1', roles: ['Machine.Isolate', 'Machine.Read.All', 'Machine.CollectForensics'] });
    });

    /** Each isolate gets answered (the second and later ones with 400 ActiveRequestAlreadyExists) and counts. */
    const isolate = (t = token) => sim.call('POST', `/api/machines/${WS42}/isolate`, { token: t, body: { Comment: 'c' } });

    it('answers the 101st call in a minute with 429 TooManyRequests and Retry-After, then recovers', async () => {
      for (let i = 0; i < 100; i++) {
        expect((await isolate()).status).not.toBe(429);
        sim.advance(100);
      }
      const throttled = await isolate();
      expect(throttled.status).toBe(429);
      expect(throttled.body.error).toEqual({ code: 'TooManyRequests', message: expect.any(String), target: expect.any(String) });
      const retryAfter = Number(throttled.headers['retry-after']);
      expect(retryAfter).toBe(50); // first call at 0 s, now 10 s

      // Other APIs and other tenants have their own budgets.
      expect((await sim.call('GET', '/api/machines', { token })).status).toBe(200);
      const other = sim.token('t2', { tenantId: 't2', roles: ['Machine.Isolate'] });
      expect((await isolate(other)).status).toBe(201);

      sim.advance(retryAfter * 1000 - 1_000);
      expect((await isolate()).status).toBe(429);
      sim.advance(1_000);
      expect((await isolate()).status).not.toBe(429);
    });

    it('caps an API at 1,500 calls per hour', async () => {
      for (let i = 0; i < 1500; i++) {
        expect((await sim.call('GET', '/api/machines', { token })).status).toBe(200);
        sim.advance(2_000); // 30 per minute: never the minute limit
      }
      const throttled = await sim.call('GET', '/api/machines', { token });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBe(600); // 3,000 s elapsed; the first call leaves at 3,600 s
      sim.advance(600_000);
      expect((await sim.call('GET', '/api/machines', { token })).status).toBe(200);
    });

    it('limits GetPackageUri to 2 calls per minute, as its page documents', async () => {
      const created = await sim.call('POST', `/api/machines/${WS42}/collectInvestigationPackage`, { token, body: { Comment: 'c' } });
      sim.advance(600_000);
      const uri = () => sim.call('GET', `/api/machineactions/${created.body.id}/GetPackageUri`, { token });
      expect((await uri()).status).toBe(200);
      expect((await uri()).status).toBe(200);
      const throttled = await uri();
      expect(throttled.status).toBe(429);
      expect(throttled.headers['retry-after']).toBe('60');
    });

    it('does not count calls refused for authentication', async () => {
      for (let i = 0; i < 150; i++) await sim.call('GET', '/api/machines');
      expect((await sim.call('GET', '/api/machines', { token })).status).toBe(200);
    });
  });
});
