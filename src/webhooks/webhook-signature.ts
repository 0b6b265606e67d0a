import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How Cordon signs a webhook request (README "Verifying a webhook"): HMAC-SHA256 with the tenant's
 * webhook secret over `<timestamp>.<body>`, where timestamp is the `Cordon-Timestamp` header (Unix
 * seconds) and body the exact bytes sent. The timestamp is signed so a captured request cannot be
 * replayed later; the receiver rejects timestamps too far from its clock.
 */
export const SIGNATURE_HEADER = 'Cordon-Signature';
export const TIMESTAMP_HEADER = 'Cordon-Timestamp';
export const DELIVERY_HEADER = 'Cordon-Delivery';
export const EVENT_HEADER = 'Cordon-Event';

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** The receiver's check, also used in tests: a matching `v1=` signature and a fresh timestamp. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  timestamp: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!header || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, Number(timestamp), body));
  return header.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
