/**
 * HTTPS against the simulator, trusting its CA for these requests only (never process-wide):
 * a plain request helper, and a Graph SDK middleware that replaces the SDK's fetch-based
 * HTTPMessageHandler (Node's fetch takes no per-call CA without the undici package).
 */
import { request } from 'node:https';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

export interface PlainResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export function httpsCall(url: string, ca: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

function headerRecord(headers: unknown): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers as Array<[string, string]>);
  return { ...(headers as Record<string, string>) };
}

/** Last link of a Graph SDK middleware chain: sends the request over HTTPS trusting `ca`. */
export class CaTrustingHttpHandler implements Middleware {
  constructor(private readonly ca: string) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : (context.request as Request).url;
    const options = context.options ?? {};
    const body = options.body === undefined || options.body === null ? undefined : String(options.body);
    const res = await httpsCall(url, this.ca, { method: options.method ?? 'GET', headers: headerRecord(options.headers), body });
    const empty = res.status === 204 || res.status === 304 || res.text === '';
    context.response = new Response(empty ? null : res.text, { status: res.status, headers: res.headers });
  }
}
