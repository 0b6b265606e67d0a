import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
}

/** Closed-loop load: `concurrency` keep-alive clients each sending requests back to back for `seconds`. */
export async function load(url: string, headers: Record<string, string>, seconds: number, concurrency: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let non2xx = 0;
  const deadline = Date.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          if (!res.statusCode || res.statusCode >= 300) non2xx++;
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const began = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) await one();
    }),
  );
  agent.destroy();
  const elapsed = (Date.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2));
  return { requests: latencies.length, seconds: elapsed, perSecond: Math.round(latencies.length / elapsed), p50ms: pct(0.5), p99ms: pct(0.99), non2xx };
}
