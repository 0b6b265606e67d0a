import { classify, parseErrorBody, requestIdOf } from './microsoft-error.mapper';
import { backoffDelayMs, parseRetryAfter, shouldRetry } from './retry-policy';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-04T10:00:00Z');

  it('reads delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 04 Mar 2026 10:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 04 Mar 2026 09:59:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});

describe('backoffDelayMs', () => {
  it('waits what Retry-After says, up to the cap', () => {
    expect(backoffDelayMs(1, 7)).toBe(7000);
    expect(backoffDelayMs(3, 3600)).toBe(120_000);
  });

  it('doubles without Retry-After, half fixed and half random, up to the maximum', () => {
    expect(backoffDelayMs(1, undefined, undefined, () => 0)).toBe(500);
    expect(backoffDelayMs(1, undefined, undefined, () => 0.5)).toBe(750);
    expect(backoffDelayMs(4, undefined, undefined, () => 0)).toBe(4000);
    expect(backoffDelayMs(20, undefined, undefined, () => 0.5)).toBe(45_000);
  });
});

describe('shouldRetry', () => {
  it.each([
    ['GET', 'throttled', 429, undefined, true],
    ['POST', 'throttled', 429, undefined, true],
    ['GET', 'throttled', 403, 'AF429', true],
    ['POST', 'server', 503, undefined, true],
    ['GET', 'server', 504, undefined, true],
    ['POST', 'server', 504, undefined, false],
    ['GET', 'network', 0, undefined, true],
    ['POST', 'network', 0, undefined, false],
    ['POST', 'timeout', 0, undefined, false],
    ['GET', 'server', 500, 'AF50000', true],
    ['GET', 'server', 500, 'InternalServerError', false],
    ['GET', 'forbidden', 403, 'AF10001', false],
    ['GET', 'unauthorized', 401, undefined, false],
    ['POST', 'bad-request', 400, 'ActiveRequestAlreadyExists', false],
  ] as const)('%s %s %i %s ⇒ %s', (method, kind, status, code, expected) => {
    expect(shouldRetry({ method, kind, status, code })).toBe(expected);
  });
});

describe('error mapping', () => {
  it('reads the three Microsoft error shapes', () => {
    expect(parseErrorBody({ error: { code: 'Request_ResourceNotFound', message: 'gone', innerError: { 'request-id': 'g-1', date: 'x' } } })).toEqual({
      code: 'Request_ResourceNotFound',
      message: 'gone',
      requestId: 'g-1',
    });
    expect(parseErrorBody({ error: { code: 'AF20022', message: 'No subscription found for the specified content type' } })).toEqual({
      code: 'AF20022',
      message: 'No subscription found for the specified content type',
      requestId: undefined,
    });
    expect(parseErrorBody({ error: { code: 'ActiveRequestAlreadyExists', message: 'Action is already in progress', target: 'd-9' } })).toMatchObject({
      code: 'ActiveRequestAlreadyExists',
      requestId: 'd-9',
    });
    expect(parseErrorBody({ Message: 'Authorization has been denied for this request.' })).toEqual({
      message: 'Authorization has been denied for this request.',
    });
    expect(parseErrorBody('<html>bad gateway</html>')).toEqual({ message: '<html>bad gateway</html>' });
  });

  it('classifies AF429 as throttling even as HTTP 403 (microsoft-notes §2.5), and licence 403s apart from permission 403s', () => {
    expect(classify(403, 'AF429', 'Too many requests.')).toBe('throttled');
    expect(classify(403, 'Authorization_RequestDenied', 'Insufficient privileges')).toBe('forbidden');
    expect(classify(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "doesn't have premium license")).toBe('unlicensed');
    expect(classify(403, 'Forbidden', 'The tenant is not licensed for Microsoft Defender XDR.')).toBe('unlicensed');
    expect(classify(403, 'DisabledFeature', "Tenant feature isn't enabled.")).toBe('unlicensed');
    expect(classify(404, 'ResourceNotFound', '')).toBe('not-found');
    expect(classify(400, 'AF20030', '')).toBe('bad-request');
    expect(classify(502, undefined, '')).toBe('server');
  });

  it('prefers the request id headers, then the body', () => {
    expect(requestIdOf({ 'request-id': 'h-1', 'client-request-id': 'c-1' }, { requestId: 'b-1' })).toBe('h-1');
    expect(requestIdOf({ 'x-ms-request-id': 'x-1' }, {})).toBe('x-1');
    expect(requestIdOf({ 'client-request-id': 'c-1' }, { requestId: 'b-1' })).toBe('b-1');
  });
});
