import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { problems } from '../common/problem';
import { ACCESS_KEY, AccessRule } from './access.decorator';
import { looksLikeApiKey } from './api-key-secret';
import { ApiKeysService } from './api-keys.service';
import { EntraTokenVerifier } from './entra-token.verifier';
import { hasAnyRole, Principal } from './principal';

/**
 * Global and default-deny: a route is reachable only through `@Public()` or `@Access(roles)`.
 * Authentication (API key or Entra ID token) ⇒ 401 when it fails; the role check ⇒ 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly entra: EntraTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (rule?.public) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const principal = await this.authenticate(request.headers.authorization);
    request.principal = principal;
    if (!rule) throw problems.forbidden('This route has no access rule and is closed.');
    if (!hasAnyRole(principal, rule.roles)) {
      throw problems.forbidden(`This needs one of the roles ${rule.roles.join(', ')}; the caller has ${principal.roles.join(', ') || 'none'}.`);
    }
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw problems.unauthenticated();
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) throw problems.invalidCredential('The Authorization header must be "Bearer <credential>".');
    const credential = match[1];
    return looksLikeApiKey(credential) ? this.apiKeys.authenticate(credential) : this.entra.verify(credential);
  }
}
