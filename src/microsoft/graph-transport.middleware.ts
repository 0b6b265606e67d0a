import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import type { LoggerService } from '@nestjs/common';
import type { CloudName, Clouds } from './clouds';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import { TransportError, type HttpsTransport } from './https-transport';
import { ForeignHostError } from './microsoft-errors';

/**
 * The last link of the Graph client's middleware chain, in place of its HTTPMessageHandler (which
 * calls the global fetch, whose TLS trust cannot take an extra CA on Node 20 without undici). Every
 * request the chain sends — first try, retries — is checked against the tenant cloud's Graph hosts
 * (host and port), waits for a slot of the tenant's concurrency limit, and goes through our transport.
 *
 * The Graph client turns any error thrown here into a GraphError that only keeps the message, so the
 * typed error is also recorded under the request's `client-request-id` for TenantGraphClient.
 */

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const MAX_RECORDED_FAILURES = 100;

export interface GraphTransportSettings {
  cloud: CloudName;
  clouds: Clouds;
  transport: HttpsTransport;
  limiter: ConcurrencyLimiter;
  laneKey: string;
  timeoutMs: number;
  logger: LoggerService;
  /** Typed failures by client-request-id, collected by TenantGraphClient. */
  failures: Map<string, Error>;
}

export class GraphTransportMiddleware implements Middleware {
  constructor(private readonly settings: GraphTransportSettings) {}

  async execute(context: Context): Promise<void> {
    const { clouds, cloud, transport, limiter, laneKey, timeoutMs, failures } = this.settings;
    const rawUrl = typeof context.request === 'string' ? context.request : (context.request as { url: string }).url;
    const options = context.options ?? {};
    const headers: Record<string, string> = {};
    new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((value, name) => (headers[name] = value));
    const clientRequestId = headers['client-request-id'];
    try {
      const url = clouds.assertFollowable(cloud, rawUrl, 'graph');
      const body = requestBody(options.body);
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const method = (options.method ?? 'GET').toUpperCase();
      const response = await limiter.run(laneKey, () => transport.send({ method, url, headers, body, timeoutMs }));
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(response.headers)) responseHeaders.set(name, value);
      const content = NULL_BODY_STATUSES.has(response.status) || response.body.length === 0 ? null : response.body;
      context.response = new Response(content, { status: response.status, headers: responseHeaders });
    } catch (error) {
      if (error instanceof ForeignHostError) {
        this.settings.logger.warn(`refused to follow a Graph URL (${cloud} cloud): ${error.message}`);
      }
      if (clientRequestId && (error instanceof ForeignHostError || error instanceof TransportError)) {
        failures.set(clientRequestId, error);
        // Calls made on the raw SDK client never collect theirs: keep only the most recent few.
        if (failures.size > MAX_RECORDED_FAILURES) failures.delete(failures.keys().next().value as string);
      }
      throw error;
    }
  }
}

function requestBody(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new Error('the Graph client produced a request body this transport cannot send (streams and forms are not used by Cordon)');
}
