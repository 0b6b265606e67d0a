import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostErrorResponse, internalErrorResponse, notFoundResponse, clientRequestIdOf } from './errors';
import type { FaultInjector } from './faults';
import { Journal, journalHeaders, truncateBody } from './journal';
import { Router } from './router';
import type { SimTlsMaterial } from './tls';
import { SimError, type SimClock, type SimHost, type SimRequest, type SimResponse, type SimRoute } from './types';

/**
 * The core HTTPS server: one listener per Microsoft host, routing of `SimRoute`s, body parsing,
 * fault injection (before routing), the request journal, and the headers every answer carries
 * (`Date` from the simulated clock; `request-id`/`client-request-id` on Graph, microsoft-notes §6.1).
 */

export const HOSTS: SimHost[] = ['login', 'graph', 'manage', 'defender'];
const MAX_BODY = 20 * 1024 * 1024;

export interface ServerDeps {
  routes: SimRoute[];
  clock: SimClock;
  faults: FaultInjector;
  journal: Journal;
  tls: SimTlsMaterial;
  log: (msg: string) => void;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Parses JSON and form bodies; throws SyntaxError for malformed JSON. */
export function parseBody(contentType: string | undefined, raw: Buffer): unknown {
  if (!raw.length) return undefined;
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  }
  if (ct.includes('ndjson')) return undefined; // one record per line: the route reads rawBody itself
  if (ct.includes('json')) return JSON.parse(raw.toString('utf8'));
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SimServer {
  private readonly router: Router;
  private readonly servers: https.Server[] = [];
  private urls?: Record<SimHost, string>;

  constructor(private readonly deps: ServerDeps) {
    this.router = new Router(deps.routes);
  }

  baseUrls(): Record<SimHost, string> {
    if (!this.urls) throw new Error('the simulator is not listening yet');
    return this.urls;
  }

  /** `port` ⇒ login port, graph port+1, manage port+2, defender port+3; 0/undefined ⇒ ephemeral ports. */
  async listen(port = 0): Promise<Record<SimHost, string>> {
    const urls = {} as Record<SimHost, string>;
    for (let i = 0; i < HOSTS.length; i++) {
      const host = HOSTS[i];
      const v4 = this.createServer(host);
      const actual = await this.bind(v4, port ? port + i : 0, '127.0.0.1');
      // `localhost` may resolve to ::1 first; serve it there too when IPv6 loopback exists.
      const v6 = this.createServer(host);
      await this.bind(v6, actual, '::1').catch((e: Error) => {
        this.deps.log(`[sim] ${host}: not listening on [::1]:${actual} (${e.message})`);
      });
      urls[host] = `https://localhost:${actual}`;
    }
    this.urls = urls;
    return urls;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.servers.length = 0;
  }

  private createServer(host: SimHost): https.Server {
    const server = https.createServer({ key: this.deps.tls.keyPem, cert: this.deps.tls.certPem }, (req, res) => {
      this.handle(host, req, res).catch((e) => {
        this.deps.log(`[sim] ${host} ${req.method} ${req.url}: ${(e as Error).stack}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.keepAliveTimeout = 5000;
    return server;
  }

  private bind(server: https.Server, port: number, address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(port, address, () => {
        server.off('error', onError);
        this.servers.push(server);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private async handle(host: SimHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const arrival = this.deps.clock.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'https://localhost');
    const rawPath = url.pathname;
    let path = rawPath;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      /* keep the raw path */
    }
    const rawBody = await readBody(req);
    const simReq: SimRequest = {
      host,
      method,
      path,
      rawPath,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body: undefined,
      params: {},
      remoteAddress: req.socket.remoteAddress ?? '',
      baseUrl: this.urls?.[host] ?? `https://localhost:${req.socket.localPort}`,
      requestId: randomUUID(),
    };
    const isControl = path.toLowerCase().startsWith('/_sim/');
    const record = (status: number, fault?: string) => {
      if (isControl) return;
      this.deps.journal.add({
        time: arrival.toISOString(),
        host,
        method,
        path,
        query: url.search.replace(/^\?/, ''),
        headers: journalHeaders(req.headers),
        body: truncateBody(rawBody, headerValue(req.headers['content-type'])),
        status,
        durationMs: Date.now() - started,
        fault,
      });
    };

    if (!isControl) {
      const fault = this.deps.faults.take(host, method, path);
      if (fault) {
        if (fault.latencyMs) await sleep(fault.latencyMs);
        if (fault.drop) {
          record(0, 'drop');
          req.socket.destroy();
          return;
        }
        if (fault.status !== undefined) {
          const response = { status: fault.status, headers: fault.headers, body: fault.body };
          this.send(host, simReq, res, response);
          record(fault.status, 'status');
          return;
        }
      }
    }

    const response = await this.dispatch(host, simReq, rawPath);
    this.send(host, simReq, res, response);
    record(response.status);
  }

  private async dispatch(host: SimHost, simReq: SimRequest, rawPath: string): Promise<SimResponse> {
    const now = this.deps.clock.now();
    const match = this.router.match(host, simReq.method, rawPath);
    if (match.kind === 'not-found') return notFoundResponse(host, simReq, now);
    if (match.kind === 'method-not-allowed') {
      return hostErrorResponse(
        host,
        simReq,
        now,
        405,
        host === 'login' ? 'invalid_request' : 'MethodNotAllowed',
        `The requested resource does not support http method '${simReq.method}'.`,
        { allow: match.allowed.join(', ') },
        900561,
      );
    }
    simReq.params = match.params;
    try {
      simReq.body = parseBody(headerValue(simReq.headers['content-type']), simReq.rawBody);
    } catch {
      const code = host === 'graph' ? 'BadRequest' : host === 'manage' ? 'AF20002' : host === 'defender' ? 'InvalidRequestBody' : 'invalid_request';
      return hostErrorResponse(
        host,
        simReq,
        now,
        400,
        code,
        'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      );
    }
    try {
      return await match.route.handler(simReq);
    } catch (e) {
      if (e instanceof SimError) return e.response;
      this.deps.log(`[sim] ${host} ${simReq.method} ${simReq.path} threw: ${(e as Error)?.stack ?? e}`);
      return internalErrorResponse(host, simReq, now);
    }
  }

  private send(host: SimHost, simReq: SimRequest, res: ServerResponse, response: SimResponse): void {
    // Header names keep the case the handler chose (e.g. `NextPageUri`); lookups are case-insensitive.
    const headers = new Map<string, [string, string]>();
    for (const [k, v] of Object.entries(response.headers ?? {})) headers.set(k.toLowerCase(), [k, String(v)]);
    const setDefault = (name: string, value: string) => {
      if (!headers.has(name)) headers.set(name, [name, value]);
    };
    let body = response.body;
    if (body && typeof body === 'object' && !Buffer.isBuffer(body)) body = this.completeErrorBody(host, simReq, body);
    let payload: Buffer;
    if (body === undefined || body === null || response.status === 204 || response.status === 304) {
      payload = Buffer.alloc(0);
    } else if (Buffer.isBuffer(body)) {
      payload = body;
      setDefault('content-type', 'application/octet-stream');
    } else if (typeof body === 'string') {
      payload = Buffer.from(body, 'utf8');
      setDefault('content-type', 'text/plain; charset=utf-8');
    } else {
      payload = Buffer.from(JSON.stringify(body), 'utf8');
      setDefault('content-type', 'application/json; charset=utf-8');
    }
    if (host === 'graph') {
      setDefault('request-id', simReq.requestId);
      setDefault('client-request-id', clientRequestIdOf(simReq));
      setDefault('x-ms-ags-diagnostic', JSON.stringify({ ServerInfo: { DataCenter: 'Local', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'SIM' } }));
    }
    headers.set('date', ['Date', this.deps.clock.now().toUTCString()]);
    headers.set('content-length', ['Content-Length', String(payload.length)]);
    res.writeHead(response.status, Object.fromEntries([...headers.values()]));
    res.end(payload);
  }

  /** Graph errors always carry innerError, Defender errors a target; fill them when a handler did not. */
  private completeErrorBody(host: SimHost, simReq: SimRequest, body: object): object {
    const err = (body as { error?: unknown }).error;
    if (!err || typeof err !== 'object' || Array.isArray(err)) return body;
    const e = err as Record<string, unknown>;
    if (host === 'graph' && !e.innerError && typeof e.code === 'string') {
      return {
        ...body,
        error: {
          ...e,
          innerError: {
            date: this.deps.clock.now().toISOString().slice(0, 19),
            'request-id': simReq.requestId,
            'client-request-id': clientRequestIdOf(simReq),
          },
        },
      };
    }
    if (host === 'defender' && e.target === undefined && typeof e.code === 'string') {
      return { ...body, error: { ...e, target: simReq.requestId } };
    }
    return body;
  }
}
