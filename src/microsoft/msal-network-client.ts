import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { TransportError, type HttpsTransport } from './https-transport';

/**
 * MSAL's network client on our HTTPS transport, so token requests trust the same extra CA as every
 * other Microsoft call (microsoft-notes §1.4, M22).
 *
 * MSAL turns a failed token request into a ServerError whose details are folded into one string, and a
 * transport failure into a bare "network_error". To report Entra ID's own fields (error, error_codes,
 * trace_id, correlation_id), the outcome of each token POST is kept under the `client-request-id` MSAL
 * puts in the form (the correlation id we pass in) until the token provider collects it.
 */

export type TokenEndpointOutcome = { kind: 'answer'; status: number; body: Record<string, unknown> } | { kind: 'transport'; error: TransportError };

export class MsalNetworkClient implements INetworkModule {
  private readonly outcomes = new Map<string, TokenEndpointOutcome>();
  /** The last failed metadata GET (openid-configuration): an unknown tenant fails there, before any POST. */
  private metadataFailure?: TokenEndpointOutcome;

  constructor(
    private readonly transport: HttpsTransport,
    private readonly timeoutMs: number,
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  /**
   * The recorded failure of the token request with this correlation id — or, when MSAL failed before
   * posting, of its last metadata request — removed once read.
   */
  takeOutcome(correlationId: string): TokenEndpointOutcome | undefined {
    const outcome = this.outcomes.get(correlationId) ?? this.metadataFailure;
    this.outcomes.delete(correlationId);
    this.metadataFailure = undefined;
    return outcome;
  }

  private async send<T>(method: string, url: string, options: NetworkRequestOptions = {}, timeout?: number): Promise<NetworkResponse<T>> {
    const correlationId = method === 'POST' ? (new URLSearchParams(options.body ?? '').get('client-request-id') ?? undefined) : undefined;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    let status: number;
    let responseHeaders: Record<string, string>;
    let text: string;
    try {
      const response = await this.transport.send({ method, url: new URL(url), headers, body: options.body, timeoutMs: timeout ?? this.timeoutMs });
      status = response.status;
      responseHeaders = response.headers;
      text = response.body.toString('utf8');
    } catch (error) {
      if (error instanceof TransportError) this.record(method, correlationId, { kind: 'transport', error });
      throw error;
    }
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // A proxy or gateway page instead of Entra ID JSON: shape it like an OAuth error so MSAL fails cleanly.
      body = { error: 'invalid_response', error_description: `the login host answered HTTP ${status} with a body that is not JSON` };
    }
    if (status >= 400) this.record(method, correlationId, { kind: 'answer', status, body });
    else if (method === 'GET') this.metadataFailure = undefined;
    return { status, headers: responseHeaders, body: body as T };
  }

  private record(method: string, correlationId: string | undefined, outcome: TokenEndpointOutcome): void {
    if (method === 'GET') this.metadataFailure = outcome;
    else if (correlationId) this.outcomes.set(correlationId, outcome);
  }
}
