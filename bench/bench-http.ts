import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * Plain node:http(s) requests for the benchmarks: each caller picks its agent (keep-alive, the
 * simulator's CA), and nothing sits between the request and the socket.
 */

export interface Reply {
  status: number;
  body: string;
}

export function send(agent: HttpAgent | HttpsAgent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method,
        agent,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': headers['content-type'] ?? 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function expectOk(reply: Promise<Reply>, what: string, statuses = [200, 201, 204]): Promise<Reply> {
  const r = await reply;
  if (!statuses.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.body.slice(0, 500)}`);
  return r;
}
