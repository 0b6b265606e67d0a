import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { OutboundTarget, pinnedLookup } from '../common/outbound-url';

export interface SendOutcome {
  /** The receiver's HTTP status, or null when it did not answer. */
  status: number | null;
  /** Why it is not a success, for the delivery log (never the request's headers or secret). */
  error: string | null;
}

/**
 * One POST to a receiver, connected to the address the outbound check passed (the name stays in the
 * Host header and TLS), on a connection of its own (no pooled socket from an earlier address).
 * Redirects are not followed (a 3xx is a failed attempt: following it would send the signed body
 * somewhere the admin did not configure, unchecked); only a 2xx counts as delivered.
 */
export function postWebhook(target: OutboundTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendOutcome> {
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    // `timeout` below fires on an idle socket; this bounds the whole exchange (a receiver that trickles).
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (outcome: SendOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(outcome);
    };
    const options = {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      timeout: timeoutMs,
      lookup: pinnedLookup(target),
      agent: false,
    };
    const req = send(target.url, options, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < 512) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        if (status >= 200 && status < 300) return done({ status, error: null });
        const said = Buffer.concat(chunks).toString('utf8').slice(0, 300).replace(/\s+/g, ' ').trim();
        const redirect = status >= 300 && status < 400 ? ` (redirect to ${res.headers.location ?? '?'} not followed)` : '';
        done({ status, error: `HTTP ${status}${redirect}${said ? `: ${said}` : ''}` });
      });
      res.on('error', (error) => done({ status, error: error.message }));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (error) => done({ status: null, error: error.message }));
    req.end(body);
  });
}
