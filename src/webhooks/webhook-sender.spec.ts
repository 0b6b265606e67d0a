import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { generateRsaKeyPair, selfSignedCertificate } from '../../test/m365-simulator/src/tls';
import type { OutboundTarget } from '../common/outbound-url';
import { postWebhook as post } from './webhook-sender';

/** The sender as the service calls it: a URL and the address its check passed (here always loopback). */
const postWebhook = (url: string, headers: Record<string, string>, body: string, timeoutMs: number, address = '127.0.0.1') =>
  post({ url: new URL(url), address, family: 4 } satisfies OutboundTarget, headers, body, timeoutMs);

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

  it('connects to the pinned address whatever the name, and keeps the name in the Host header', async () => {
    const port = (server.address() as AddressInfo).port;
    expect(await postWebhook(`http://receiver.test:${port}/ok`, {}, '{}', 2000)).toEqual({ status: 204, error: null });
    expect(seen.at(-1)).toMatchObject({ path: '/ok', headers: { host: `receiver.test:${port}` } });
  });

  it('sends the name (not the address) for TLS, and checks the certificate against it', async () => {
    const names: string[] = [];
    const keys = generateRsaKeyPair();
    const tls = createTlsServer({
      key: keys.privateKeyPem,
      cert: selfSignedCertificate(keys, 'hooks.test'),
      SNICallback: (name, cb) => (names.push(name), cb(null, undefined)),
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const outcome = await postWebhook(`https://hooks.test:${(tls.address() as AddressInfo).port}/hook`, {}, '{}', 2000);
      expect(outcome).toEqual({ status: null, error: expect.stringMatching(/self[- ]signed/) });
      expect(names).toEqual(['hooks.test']);
    } finally {
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  });
});
