/** Calls Graph routes in-process: pattern matching, query parsing and SimError handling. */
import { randomUUID } from 'node:crypto';
import { SimError, type SimResponse, type SimRoute, type SimTenant, type Scenario } from '../../src/types';
import { graphModule } from '../../src/graph';
import { fakeContext, type FakeContext } from './fake-context';

export const GRAPH_BASE = 'https://localhost:9443';

/** A parsed JSON body, read loosely in assertions (the tests check shapes with expect). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Harness {
  ctx: FakeContext;
  call(method: string, url: string, opts?: CallOptions): Promise<SimResponse & { body: Json }>;
  /** Follows @odata.nextLink to the end; returns every page's values and the number of pages. */
  pageAll(url: string, opts?: CallOptions): Promise<{ items: Json[]; pages: number }>;
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i].toLowerCase() !== s[i].toLowerCase()) return undefined;
  }
  return params;
}

export function graphHarness(tenants: SimTenant[], scenario: Partial<Scenario> = {}): Harness {
  const ctx = fakeContext(tenants, scenario);
  const routes: SimRoute[] = graphModule(ctx);
  const call: Harness['call'] = async (method, url, opts = {}) => {
    const parsed = new URL(url, GRAPH_BASE);
    const candidates = routes.filter((r) => r.method === method);
    for (const route of candidates) {
      const params = match(route.pattern, parsed.pathname);
      if (!params) continue;
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const rawBody = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(opts.body));
      try {
        return (await route.handler({
          host: 'graph',
          method,
          path: decodeURIComponent(parsed.pathname),
          query: parsed.searchParams,
          headers,
          rawBody,
          body: opts.body,
          params,
          remoteAddress: '127.0.0.1',
          baseUrl: GRAPH_BASE,
          requestId: randomUUID(),
        })) as SimResponse & { body: Json };
      } catch (err) {
        if (err instanceof SimError) return err.response as SimResponse & { body: Json };
        throw err;
      }
    }
    return { status: 404, body: { error: { code: 'NoRoute', message: `${method} ${parsed.pathname}` } } };
  };
  const pageAll: Harness['pageAll'] = async (url, opts) => {
    const items: Json[] = [];
    let next: string | undefined = url;
    let pages = 0;
    while (next) {
      const res = await call('GET', next, opts);
      if (res.status !== 200) throw new Error(`page ${pages + 1}: ${res.status} ${JSON.stringify(res.body)}`);
      pages++;
      items.push(...res.body.value);
      next = res.body['@odata.nextLink'];
      if (next) expect(next.startsWith(`${GRAPH_BASE}/v1.0/`)).toBe(true);
    }
    return { items, pages };
  };
  return { ctx, call, pageAll };
}
