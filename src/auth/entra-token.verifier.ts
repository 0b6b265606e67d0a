import { Inject, Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { problems } from '../common/problem';
import type { Principal } from '../access/principal';
import { rolesFromAppRoles } from '../access/roles';

/**
 * Entra ID access tokens for analysts' tools: RS256 JWTs checked against the configured issuer,
 * audience and JWKS (keys are cached and refreshed by jose when an unknown `kid` appears).
 * The `roles` claim carries the Cordon.* app roles.
 */
@Injectable()
export class EntraTokenVerifier {
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.entra) {
      const agent = config.microsoftCaFile ? new Agent({ ca: readFileSync(config.microsoftCaFile, 'utf8'), keepAlive: true }) : undefined;
      this.jwks = createRemoteJWKSet(new URL(config.entra.jwksUrl), { agent, timeoutDuration: 5000, cooldownDuration: 30_000 });
    }
  }

  get enabled(): boolean {
    return this.jwks !== undefined;
  }

  async verify(token: string): Promise<Principal> {
    if (!this.jwks || !this.config.entra) {
      throw problems.invalidCredential('Entra ID sign-in is not configured on this server; use an API key.');
    }
    try {
      const { payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.entra.issuer,
        audience: this.config.entra.audience,
        algorithms: ['RS256'],
        clockTolerance: 60,
      });
      const id = String(payload.oid ?? payload.sub ?? '');
      if (!id) throw problems.invalidCredential('The token has no oid or sub claim.');
      const name = String(payload.preferred_username ?? payload.upn ?? payload.name ?? id);
      return { type: 'user', id, name, roles: rolesFromAppRoles(payload.roles), tenantIds: null };
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw problems.invalidCredential('The access token has expired.');
      if (error instanceof errors.JWTClaimValidationFailed) throw problems.invalidCredential(`The access token's ${error.claim} claim is not accepted.`);
      if (error instanceof errors.JOSEError) throw problems.invalidCredential('The access token could not be verified.');
      throw error;
    }
  }
}
