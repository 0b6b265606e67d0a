import { createHmac } from 'node:crypto';
import { signPayload, verifySignature } from './webhook-signature';

describe('webhook signature', () => {
  const secret = 'whsec-unit-0123456789';
  const body = '{"id":"d1","event":"alert.created","data":{"severity":"high"}}';

  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, with a version prefix', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signPayload(secret, 1700000000, body)).toBe(`v1=${expected}`);
  });

  it('verifies what it signed and nothing else', () => {
    const header = signPayload(secret, 1700000000, body);
    expect(verifySignature(secret, header, '1700000000', body, 1700000010)).toBe(true);
    expect(verifySignature(secret, `v0=abc, ${header}`, '1700000000', body, 1700000010)).toBe(true); // one of several
    expect(verifySignature('another-secret-value', header, '1700000000', body, 1700000010)).toBe(false);
    expect(verifySignature(secret, header, '1700000001', body, 1700000010)).toBe(false); // timestamp is signed
    expect(verifySignature(secret, header, '1700000000', `${body} `, 1700000010)).toBe(false);
    expect(verifySignature(secret, undefined, '1700000000', body, 1700000010)).toBe(false);
    expect(verifySignature(secret, header, 'soon', body, 1700000010)).toBe(false);
  });

  it('refuses a timestamp outside the tolerance (replay)', () => {
    const header = signPayload(secret, 1700000000, body);
    expect(verifySignature(secret, header, '1700000000', body, 1700000000 + 301)).toBe(false);
    expect(verifySignature(secret, header, '1700000000', body, 1700000000 - 301)).toBe(false);
    expect(verifySignature(secret, header, '1700000000', body, 1700000000 + 3600, 7200)).toBe(true);
  });
});
