import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from './webhook-sender';

describe('postWebhook', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ path: string; body: string; headers: Record<string, unknown> }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body, headers: req.headers });
        if (req.url === '/ok') return void res.writeHead(204).end();
        if (req.url === '/moved') return void res.writeHead(301, { location: `${base}/ok` }).end();
        if (req.url === '/down') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance\nwindow');
        if (req.url === '/trickle') {
          res.writeHead(200);
          const timer = setInterval(() => res.write('.'), 50);
          res.on('close', () => clearInterval(timer));
          return;
        }
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts a 2xx as delivered and sends the body and headers as given', async () => {
    expect(await postWebhook(`${base}/ok`, { 'Cordon-Event': 'alert.created' }, '{"a":1}', 2000)).toEqual({ status: 204, error: null });
    expect(seen.at(-1)).toMatchObject({ path: '/ok', body: '{"a":1}', headers: { 'cordon-event': 'alert.created', 'content-type': 'application/json' } });
  });

  it('does not follow a redirect', async () => {
    const before = seen.length;
    const outcome = await postWebhook(`${base}/moved`, {}, '{}', 2000);
    expect(outcome).toEqual({ status: 301, error: expect.stringMatching(/^HTTP 301 \(redirect to .*\/ok not followed\)/) });
    expect(seen.slice(before).map((s) => s.path)).toEqual(['/moved']);
  });

  it('reports the status and the start of the answer of a failure', async () => {
    expect(await postWebhook(`${base}/down`, {}, '{}', 2000)).toEqual({ status: 503, error: 'HTTP 503: maintenance window' });
  });

  it('gives up on a receiver that never finishes answering, and on one that is not there', async () => {
    const trickle = await postWebhook(`${base}/trickle`, {}, '{}', 300);
    expect(trickle.error).toMatch(/within 300 ms/);
    const nobody = await postWebhook('http://127.0.0.1:1/hook', {}, '{}', 1000);
    expect(nobody).toEqual({ status: null, error: expect.stringMatching(/ECONNREFUSED/) });
  });
});
