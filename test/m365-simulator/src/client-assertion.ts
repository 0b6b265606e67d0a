import { X509Certificate } from 'node:crypto';
import { decodeJwt, verifyJwtSignature } from './jwt';
import { certificateThumbprints } from './tls';
import type { SimApp } from './types';

/**
 * Verifies a certificate `client_assertion` (microsoft-notes §1.2):
 * - header `alg` RS256 with `x5t` (base64url SHA-1 thumbprint) — the older form MSAL still sends —
 *   or PS256 with `x5t#S256` (base64url SHA-256 thumbprint), the current documented form;
 * - the signature against one of the certificates registered on the app;
 * - `aud` = the token endpoint URL, `iss` = `sub` = client id, `exp` not passed.
 */

export type AssertionResult = { ok: true } | { ok: false; aadsts: number; message: string };

export interface AssertionContext {
  app: SimApp;
  clientId: string;
  /** Token endpoint URLs that are acceptable `aud` values (compared case-insensitively). */
  audiences: string[];
  nowSeconds: number;
}

const SKEW = 300;

export function verifyClientAssertion(assertion: string, ctx: AssertionContext): AssertionResult {
  const jwt = decodeJwt(assertion);
  if (!jwt) return { ok: false, aadsts: 50027, message: 'JWT token is invalid or malformed.' };
  const { header, payload } = jwt;
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') {
    return { ok: false, aadsts: 5002730, message: `Invalid JWT token. Unsupported key for the signing algorithm ${String(alg)}.` };
  }
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? (header['x5t#S256'] as string) : undefined;
  if (!x5t && !x5tS256) {
    return { ok: false, aadsts: 700027, message: 'Client assertion failed signature validation. The assertion has no x5t or x5t#S256 header.' };
  }
  const cert = ctx.app.certificates.find((pem) => {
    const t = certificateThumbprints(pem);
    return (x5t && t.x5t === x5t) || (x5tS256 && t.x5tS256 === x5tS256);
  });
  if (!cert) {
    return {
      ok: false,
      aadsts: 700027,
      message: `Client assertion failed signature validation. The key was not found. (Reason - The key used is not registered on application ${ctx.clientId}.)`,
    };
  }
  if (!verifyJwtSignature(jwt, new X509Certificate(cert).publicKey)) {
    return {
      ok: false,
      aadsts: 700027,
      message: 'Client assertion failed signature validation. (Reason - The provided signature value did not match the expected signature value.)',
    };
  }
  const aud = String(payload.aud ?? '').toLowerCase();
  if (!ctx.audiences.some((a) => a.toLowerCase() === aud)) {
    return {
      ok: false,
      aadsts: 700027,
      message: `Client assertion contains an invalid audience ${String(payload.aud)}; expected the token endpoint ${ctx.audiences[0]}.`,
    };
  }
  if (String(payload.iss).toLowerCase() !== ctx.clientId.toLowerCase() || String(payload.sub).toLowerCase() !== ctx.clientId.toLowerCase()) {
    return { ok: false, aadsts: 700027, message: 'Client assertion failed validation: iss and sub must both equal the client id.' };
  }
  const exp = Number(payload.exp);
  if (!Number.isFinite(exp) || exp + SKEW < ctx.nowSeconds) {
    return { ok: false, aadsts: 700024, message: 'Client assertion is not within its valid time range.' };
  }
  const nbf = Number(payload.nbf ?? 0);
  if (nbf - SKEW > ctx.nowSeconds) {
    return { ok: false, aadsts: 700024, message: 'Client assertion is not within its valid time range.' };
  }
  return { ok: true };
}
