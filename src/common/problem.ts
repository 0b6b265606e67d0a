/**
 * Domain errors with a stable slug. The global filter turns them into RFC 9457 problem details:
 * `{ type: "/problems/<slug>", title, status, detail, instance, ...extras }`.
 * Each slug is documented in README ("Errors").
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extras: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export const problems = {
  validation: (errors: FieldError[], detail = 'The request is not valid; see errors.') =>
    new Problem(400, 'validation-failed', 'Validation failed', detail, { errors }),
  malformedBody: (detail: string) => new Problem(400, 'malformed-body', 'Malformed request body', detail),
  unauthenticated: (detail = 'A valid bearer credential is required.') =>
    new Problem(401, 'unauthenticated', 'Authentication required', detail, {}, { 'WWW-Authenticate': 'Bearer realm="cordon"' }),
  invalidCredential: (detail: string) =>
    new Problem(
      401,
      'unauthenticated',
      'Authentication required',
      detail,
      {},
      {
        'WWW-Authenticate': 'Bearer realm="cordon", error="invalid_token"',
      },
    ),
  forbidden: (detail: string) => new Problem(403, 'forbidden', 'Forbidden', detail),
  notFound: (detail: string) => new Problem(404, 'not-found', 'Not found', detail),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new Problem(
      405,
      'method-not-allowed',
      'Method not allowed',
      `${method} is not allowed here; use ${allowed.join(', ')}.`,
      {},
      {
        Allow: allowed.join(', '),
      },
    ),
  payloadTooLarge: (limit: number) => new Problem(413, 'payload-too-large', 'Payload too large', `The request body exceeds ${limit} bytes.`),
  malformedUrl: () => new Problem(400, 'malformed-url', 'Malformed URL', 'The path is not valid percent-encoded UTF-8.'),
  uriTooLong: () => new Problem(414, 'uri-too-long', 'URI too long', 'A path segment is longer than 1024 characters.'),
  unsupportedMediaType: (detail: string) => new Problem(415, 'unsupported-media-type', 'Unsupported media type', detail),
  unavailable: (detail: string) => new Problem(503, 'service-unavailable', 'Service unavailable', detail),
};
