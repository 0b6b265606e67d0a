import https from 'node:https';
import type { RunningSimulator } from '../src/index';

/** Small HTTPS client for the contract tests: trusts the simulator's CA explicitly (no global TLS changes). */

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
  /** Form fields: sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  token?: string;
}

export function request(ca: string, url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let payload: Buffer | undefined;
  if (opts.form) {
    payload = Buffer.from(new URLSearchParams(opts.form).toString());
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (opts.body !== undefined) {
    if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) payload = Buffer.from(opts.body);
    else {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
    }
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (payload) headers['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? (payload ? 'POST' : 'GET'), headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Bound to one simulator: `http.get(url)`, `http.post(url, {...})`. */
export function client(sim: RunningSimulator) {
  const call =
    (method: string) =>
    (url: string, opts: HttpOptions = {}) =>
      request(sim.caCertPem, url, { ...opts, method });
  return { get: call('GET'), post: call('POST'), patch: call('PATCH'), del: call('DELETE') };
}

/** Client-credentials token with a secret. */
export async function appToken(sim: RunningSimulator, scope: string, tenantIndex = 0): Promise<string> {
  const t = sim.tenants[tenantIndex];
  const res = await request(sim.caCertPem, `${sim.baseUrls.login}/${t.tenantId}/oauth2/v2.0/token`, {
    form: { grant_type: 'client_credentials', client_id: t.clientId, client_secret: t.clientSecret!, scope },
  });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return res.json.access_token;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function decodePayload(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
