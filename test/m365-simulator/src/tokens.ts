import { KeyObject, createPrivateKey, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { guidFrom } from './ids';
import { decodeJwt, signJwt, verifyJwtSignature } from './jwt';
import { certificateDerBase64, certificateThumbprints, generateRsaKeyPair, selfSignedCertificate, type KeyPairPem } from './tls';
import type { SimApp, SimClock, SimTenant } from './types';

/**
 * The simulated Entra ID signing key and the access tokens it issues.
 * App-only tokens are v1.0 (`iss` https://sts.windows.net/{tid}/, `ver` "1.0", `idtyp` app; microsoft-notes §1.3);
 * user tokens minted for Cordon's own API are v2.0 (`iss` {login base}/{tid}/v2.0).
 */

export interface UserTokenRequest {
  tenantId: string;
  audience: string;
  roles?: string[];
  /** Delegated scopes, space-separated in the token (`scp`). */
  scp?: string | string[];
  upn?: string;
  name?: string;
  oid?: string;
  lifetimeSeconds?: number;
  /** Overrides the issuer (to test issuer validation). */
  issuer?: string;
  /** Client (app) id the user signed in to; default a fixed sim client id. */
  azp?: string;
}

export interface MintedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  claims: Record<string, unknown>;
}

export type TokenCheck =
  | { ok: true; header: Record<string, unknown>; claims: Record<string, unknown> }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid'; message: string };

const SKEW_SECONDS = 300;

export class TokenService {
  readonly kid: string;
  readonly certPem: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(
    private readonly clock: SimClock,
    private readonly loginBase: () => string,
    private readonly defaultLifetimeSeconds: number,
    keys: KeyPairPem = generateRsaKeyPair(),
  ) {
    this.privateKey = createPrivateKey(keys.privateKeyPem);
    this.publicKey = createPublicKey(keys.publicKeyPem);
    this.certPem = selfSignedCertificate(keys, 'accounts.localhost.sim');
    // Entra uses the certificate's SHA-1 thumbprint as both kid and x5t.
    this.kid = certificateThumbprints(this.certPem).x5t;
  }

  /** The JWKS document (`/discovery/v2.0/keys`). */
  jwks(issuer?: string) {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return {
      keys: [
        {
          kty: 'RSA',
          use: 'sig',
          kid: this.kid,
          x5t: this.kid,
          n: jwk.n,
          e: jwk.e,
          x5c: [certificateDerBase64(this.certPem)],
          ...(issuer ? { issuer } : {}),
        },
      ],
    };
  }

  private sign(claims: Record<string, unknown>): string {
    return signJwt({ typ: 'JWT', alg: 'RS256', x5t: this.kid, kid: this.kid }, claims, this.privateKey);
  }

  private times(lifetimeSeconds: number) {
    const iat = Math.floor(this.clock.nowMs() / 1000);
    return { iat, nbf: iat, exp: iat + lifetimeSeconds };
  }

  /** Object id of an app's service principal in a tenant (stable). */
  static servicePrincipalId(tenant: SimTenant, app: SimApp): string {
    return guidFrom('service-principal', tenant.tenantId, app.clientId);
  }

  mintAppToken(tenant: SimTenant, app: SimApp, audience: string, roles: string[], appidacr: '1' | '2', lifetimeSeconds?: number): MintedToken {
    const lifetime = lifetimeSeconds ?? this.defaultLifetimeSeconds;
    const tid = tenant.tenantId;
    const oid = TokenService.servicePrincipalId(tenant, app);
    const claims: Record<string, unknown> = {
      aud: audience,
      iss: `https://sts.windows.net/${tid}/`,
      ...this.times(lifetime),
      aio: randomBytes(24).toString('base64url'),
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr,
      idp: `https://sts.windows.net/${tid}/`,
      idtyp: 'app',
      oid,
      rh: '0.sim',
      ...(roles.length ? { roles } : {}), // Entra omits `roles` when nothing is granted
      sub: oid,
      tid,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    };
    return { access_token: this.sign(claims), token_type: 'Bearer', expires_in: lifetime, claims };
  }

  mintUserToken(tenant: SimTenant, req: UserTokenRequest): MintedToken {
    const lifetime = req.lifetimeSeconds ?? this.defaultLifetimeSeconds;
    const tid = tenant.tenantId;
    const upn = req.upn ?? `analyst@${tenant.domains[0]}`;
    const user = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
    const oid = req.oid ?? user?.id ?? guidFrom('user', tid, upn.toLowerCase());
    const scp = Array.isArray(req.scp) ? req.scp.join(' ') : req.scp;
    const claims: Record<string, unknown> = {
      aud: req.audience,
      iss: req.issuer ?? `${this.loginBase()}/${tid}/v2.0`,
      ...this.times(lifetime),
      aio: randomBytes(24).toString('base64url'),
      azp: req.azp ?? '0a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      azpacr: '0',
      name: req.name ?? user?.displayName ?? upn.split('@')[0],
      oid,
      preferred_username: upn,
      rh: '0.sim',
      ...(req.roles?.length ? { roles: req.roles } : {}),
      ...(scp ? { scp } : {}),
      sub: guidFrom('sub', tid, oid),
      tid,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
      jti: randomUUID(),
    };
    return { access_token: this.sign(claims), token_type: 'Bearer', expires_in: lifetime, claims };
  }

  /** Signature and lifetime check against the simulated clock. */
  check(token: string): TokenCheck {
    const jwt = decodeJwt(token);
    if (!jwt) return { ok: false, reason: 'malformed', message: 'IDX14100: JWT is not well formed.' };
    if (jwt.header.kid !== undefined && jwt.header.kid !== this.kid) {
      return { ok: false, reason: 'signature', message: 'IDX10503: Signature validation failed. The token key was not found.' };
    }
    if (!verifyJwtSignature(jwt, this.publicKey)) {
      return { ok: false, reason: 'signature', message: 'IDX10511: Signature validation failed.' };
    }
    const now = Math.floor(this.clock.nowMs() / 1000);
    const exp = Number(jwt.payload.exp);
    const nbf = Number(jwt.payload.nbf ?? 0);
    if (!Number.isFinite(exp) || exp <= now) {
      return { ok: false, reason: 'expired', message: 'Lifetime validation failed, the token is expired.' };
    }
    if (nbf > now + SKEW_SECONDS) {
      return { ok: false, reason: 'not-yet-valid', message: 'Lifetime validation failed, the token is not yet valid.' };
    }
    return { ok: true, header: jwt.header, claims: jwt.payload };
  }
}
