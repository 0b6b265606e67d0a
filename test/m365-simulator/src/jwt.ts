import { KeyObject, constants, createPrivateKey, sign, verify } from 'node:crypto';

/**
 * Minimal synchronous JWS (compact) helpers. `requireToken` is synchronous in the contract
 * (types.ts), so verification cannot use an async library.
 */

export type JwtAlg = 'RS256' | 'PS256';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function keyOptions(alg: JwtAlg, key: KeyObject) {
  return alg === 'PS256'
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: KeyObject | string): string {
  const alg = (header.alg ?? 'RS256') as JwtAlg;
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const signingInput = `${b64({ ...header, alg })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), keyOptions(alg, key));
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Splits and parses a compact JWS; undefined when it is not well formed. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') return undefined;
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  const alg = jwt.header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') return false;
  const opts =
    alg === 'PS256'
      ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }
      : { key: publicKey, padding: constants.RSA_PKCS1_PADDING };
  try {
    return verify('sha256', Buffer.from(jwt.signingInput), opts, jwt.signature);
  } catch {
    return false;
  }
}
