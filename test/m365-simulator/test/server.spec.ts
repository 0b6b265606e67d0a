import { SimClockImpl } from '../src/clock';
import { FaultInjector } from '../src/faults';
import { Journal } from '../src/journal';
import { SimServer } from '../src/server';
import { generateTlsMaterial } from '../src/tls';
import { SimError, type SimHost, type SimRoute } from '../src/types';
import { request } from './helpers';

/** The core server with test routes: body parsing, SimError, 500s, 405s, content types, port layout. */

const tls = generateTlsMaterial();
const clock = new SimClockImpl();
const echo = (host: SimHost, method: SimRoute['method'], pattern: string): SimRoute => ({
  host,
  method,
  pattern,
  handler: (req) => ({ status: 200, body: { body: req.body ?? null, params: req.params, query: Object.fromEntries(req.query) } }),
});
const routes: SimRoute[] = [
  echo('graph', 'POST', '/echo/:a'),
  echo('graph', 'GET', '/echo/:a'),
  {
    host: 'graph',
    method: 'GET',
    pattern: '/boom',
    handler: () => {
      throw new Error('kaboom');
    },
  },
  {
    host: 'manage',
    method: 'GET',
    pattern: '/boom',
    handler: () => {
      throw new Error('kaboom');
    },
  },
  {
    host: 'defender',
    method: 'GET',
    pattern: '/teapot',
    handler: () => {
      throw new SimError({ status: 418, body: { error: { code: 'Teapot', message: 'short and stout' } } });
    },
  },
  { host: 'login', method: 'GET', pattern: '/text', handler: () => ({ status: 200, body: 'plain', headers: { 'X-Custom': 'yes' } }) },
  { host: 'login', method: 'GET', pattern: '/empty', handler: () => ({ status: 204, body: { ignored: true } }) },
];

let server: SimServer;
let urls: Record<SimHost, string>;
const logs: string[] = [];
beforeAll(async () => {
  server = new SimServer({ routes, clock, faults: new FaultInjector(), journal: new Journal(3), tls, log: (m) => logs.push(m) });
  urls = await server.listen(0);
});
afterAll(() => server.close());
const get = (url: string, opts = {}) => request(tls.caCertPem, url, opts);

describe('Journal', () => {
  it('keeps only the last N entries and filters by host, method, path and since', () => {
    const j = new Journal(3);
    for (let i = 0; i < 5; i++)
      j.add({
        time: new Date(1000 * i).toISOString(),
        host: i % 2 ? 'graph' : 'manage',
        method: 'GET',
        path: `/p/${i}`,
        query: '',
        headers: {},
        status: 200,
        durationMs: 1,
      });
    expect(j.list().map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(j.list({ host: 'graph' }).map((e) => e.path)).toEqual(['/p/3']);
    expect(j.list({ since: 4 }).map((e) => e.seq)).toEqual([5]);
    expect(j.list({ since: new Date(2500).toISOString() }).map((e) => e.seq)).toEqual([4, 5]);
    expect(j.list({ path: 'P/4', method: 'get' })).toHaveLength(1);
  });
});

describe('SimServer', () => {
  it('puts login, graph, manage and defender on port, port+1, port+2, port+3', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const base = 20000 + Math.floor(Math.random() * 30000);
      const s = new SimServer({ routes: [], clock, faults: new FaultInjector(), journal: new Journal(), tls, log: () => undefined });
      try {
        const u = await s.listen(base);
        expect(Object.values(u)).toEqual([0, 1, 2, 3].map((i) => `https://localhost:${base + i}`));
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      } finally {
        await s.close();
      }
    }
    throw new Error('no free port range found');
  });

  it('serves four hosts on four ports', () => {
    const ports = Object.values(urls).map((u) => Number(new URL(u).port));
    expect(new Set(ports).size).toBe(4);
    expect(Object.values(urls).every((u) => u.startsWith('https://localhost:'))).toBe(true);
  });

  it('parses JSON and form bodies, decodes params, keeps the query', async () => {
    const json = await get(`${urls.graph}/echo/a%20b?x=1&%24top=5`, { method: 'POST', body: { n: 1 } });
    expect(json.json).toEqual({ body: { n: 1 }, params: { a: 'a b' }, query: { x: '1', $top: '5' } });
    const form = await get(`${urls.graph}/echo/z`, { method: 'POST', form: { k: 'v w' } });
    expect(form.json.body).toEqual({ k: 'v w' });
    const bad = await get(`${urls.graph}/echo/z`, { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('BadRequest');
  });

  it('turns exceptions into 500 in the host shape and SimError into its response', async () => {
    const g = await get(`${urls.graph}/boom`);
    expect(g.status).toBe(500);
    expect(g.json.error).toMatchObject({ code: 'generalException', innerError: { 'request-id': expect.any(String) } });
    expect((await get(`${urls.manage}/boom`)).json).toEqual({ error: { code: 'AF50000', message: expect.any(String) } });
    expect(logs.some((l) => l.includes('kaboom'))).toBe(true);
    const t = await get(`${urls.defender}/teapot`);
    expect(t.status).toBe(418);
    expect(t.json).toEqual({ error: { code: 'Teapot', message: 'short and stout', target: expect.any(String) } });
  });

  it('answers 405 for a known path with another method', async () => {
    const res = await get(`${urls.graph}/echo/x`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST, GET');
  });

  it('sends strings verbatim, drops bodies of 204, keeps header case, and dates from the sim clock', async () => {
    const text = await get(`${urls.login}/text`);
    expect(text.text).toBe('plain');
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.headers['x-custom']).toBe('yes');
    const empty = await get(`${urls.login}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.text).toBe('');
    clock.advance(10 * 86_400_000);
    const later = await get(`${urls.login}/text`);
    expect(Date.parse(later.headers.date as string)).toBeGreaterThan(Date.now() + 9 * 86_400_000);
  });
});
