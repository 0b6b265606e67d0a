import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createSecureContext, rootCertificates } from 'node:tls';
import { crashPoint } from '../common/crash-points';

/**
 * The one HTTPS client every Microsoft call goes through (MSAL's network client, the Graph client's
 * last middleware, MicrosoftHttp): node:https with a keep-alive agent that trusts the public roots
 * plus, when configured, one extra CA (the simulator's). TLS verification is never switched off.
 * Redirects are not followed: a redirect would send us somewhere no allow-list approved.
 */

export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** An answer whose body is read as it arrives (`HttpsTransport.open`). */
export interface TransportStreamResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Readable;
}

/** No HTTP answer: the connection failed, broke, or the timeout passed. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'network' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Content blobs are the largest answers (a few MB); anything far above is refused. */
const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

export class HttpsTransport {
  private readonly agent: https.Agent;

  constructor(options: { caPem?: string } = {}) {
    // `ca` replaces Node's default trust store, so the public roots are listed along with the extra CA.
    // They are parsed once into a secure context: given as `ca`, Node would parse ~150 certificates for
    // every new connection and concatenate them into the agent's pool key on every request.
    const secureContext = options.caPem ? createSecureContext({ ca: [...rootCertificates, options.caPem] }) : undefined;
    this.agent = new https.Agent({ keepAlive: true, secureContext });
  }

  static fromCaFile(caFile?: string): HttpsTransport {
    return new HttpsTransport({ caPem: caFile ? readFileSync(caFile, 'utf8') : undefined });
  }

  send(request: TransportRequest): Promise<TransportResponse> {
    const { url } = request;
    if (url.protocol !== 'https:') return Promise.reject(new TransportError('network', `refused a non-https URL (${url.protocol})`));
    crashPoint('microsoft.request', [url.href]);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: request.method, headers: request.headers, agent: this.agent }, (res) => {
        crashPoint('microsoft.response', [url.href]);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new TransportError('network', `the response from ${url.host} exceeds ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (error) => fail(error));
        res.on('aborted', () => fail(new Error('the connection closed before the response was complete')));
      });
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error instanceof TransportError ? error : new TransportError('network', `${url.host}: ${error.message}`));
      };
      const timer = setTimeout(() => {
        req.destroy(new TransportError('timeout', `${url.host} did not answer within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      req.on('error', fail);
      req.end(request.body);
    });
  }

  /**
   * Like `send`, but answers as soon as the status line and headers are in, with the body still to be
   * read from `body` (for answers too large to hold whole: content blobs). The timeout covers the
   * wait for the headers; reading the body is the caller's to bound. The caller must consume the
   * body to its end or destroy it, or the socket stays busy.
   */
  open(request: TransportRequest): Promise<TransportStreamResponse> {
    const { url } = request;
    if (url.protocol !== 'https:') return Promise.reject(new TransportError('network', `refused a non-https URL (${url.protocol})`));
    crashPoint('microsoft.request', [url.href]);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: request.method, headers: request.headers, agent: this.agent }, (res) => {
        crashPoint('microsoft.response', [url.href]);
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers, body: res });
      });
      const timer = setTimeout(() => {
        req.destroy(new TransportError('timeout', `${url.host} did not answer within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error instanceof TransportError ? error : new TransportError('network', `${url.host}: ${error.message}`));
      });
      req.end(request.body);
    });
  }

  /** Closes idle keep-alive sockets (application shutdown, tests). */
  close(): void {
    this.agent.destroy();
  }
}
