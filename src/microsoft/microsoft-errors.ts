import type { MicrosoftResource } from './clouds';

/**
 * Typed failures of the Microsoft connectivity layer. Callers branch on `kind` and on Microsoft's own
 * `code`; the message is for people. None of them ever carries a token or a secret.
 */

export type MicrosoftErrorKind = 'throttled' | 'forbidden' | 'unlicensed' | 'not-found' | 'unauthorized' | 'bad-request' | 'server' | 'network' | 'timeout';

export interface MicrosoftApiErrorDetails {
  kind: MicrosoftErrorKind;
  resource: MicrosoftResource;
  /** HTTP status; 0 when no response arrived (network, timeout). */
  status: number;
  /** Microsoft's error code: `AF20022`, `ActiveRequestAlreadyExists`, `Authorization_RequestDenied`... */
  code?: string;
  message: string;
  /** The id to quote to Microsoft support (`request-id`, `client-request-id`, `x-ms-request-id`, or the body). */
  requestId?: string;
  /** What Microsoft asked us to wait (Retry-After), when it did. */
  retryAfterSeconds?: number;
  method: string;
  /** The URL without its query string. */
  url: string;
  /** Attempts made, retries included. */
  attempts: number;
}

export class MicrosoftApiError extends Error implements MicrosoftApiErrorDetails {
  readonly kind: MicrosoftErrorKind;
  readonly resource: MicrosoftResource;
  readonly status: number;
  readonly code?: string;
  readonly requestId?: string;
  readonly retryAfterSeconds?: number;
  readonly method: string;
  readonly url: string;
  readonly attempts: number;

  constructor(details: MicrosoftApiErrorDetails) {
    const where = `${details.method} ${details.url}`;
    const status = details.status ? ` ${details.status}` : '';
    const code = details.code ? ` ${details.code}` : '';
    super(`${details.resource}${status}${code}: ${details.message} (${where}${details.requestId ? `, request id ${details.requestId}` : ''})`);
    this.name = 'MicrosoftApiError';
    this.kind = details.kind;
    this.resource = details.resource;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.method = details.method;
    this.url = details.url;
    this.attempts = details.attempts;
  }

  /** Whether a later attempt (a new job run) may succeed. */
  get transient(): boolean {
    return ['throttled', 'server', 'network', 'timeout'].includes(this.kind);
  }
}

/** Why a token could not be had: Entra ID's answer (AADSTS codes) or a credential we could not use. */
export class MicrosoftAuthError extends Error {
  constructor(
    /** OAuth `error` (`invalid_client`, `unauthorized_client`...) or our own (`invalid_certificate`, `network`). */
    readonly error: string,
    /** AADSTS numbers, e.g. [7000215]. */
    readonly codes: number[],
    message: string,
    readonly tenantId: string,
    readonly details: { correlationId?: string; traceId?: string; status?: number; description?: string } = {},
  ) {
    super(message);
    this.name = 'MicrosoftAuthError';
  }

  get correlationId(): string | undefined {
    return this.details.correlationId;
  }

  get traceId(): string | undefined {
    return this.details.traceId;
  }

  /** Entra ID did not answer (or answered 5xx): worth trying again later; a wrong secret is not. */
  get transient(): boolean {
    return this.error === 'network' || this.error === 'timeout' || (this.details.status ?? 0) >= 500 || this.error === 'temporarily_unavailable';
  }
}
