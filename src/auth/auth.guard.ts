import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuditHmac } from '../audit-log/audit-hmac';
import { RefusalRecorder } from '../audit-log/refusal-recorder';
import { Problem, problems } from '../common/problem';
import { ACCESS_KEY, AccessRule } from '../access/access.decorator';
import { displayPrefix, looksLikeApiKey } from './api-key-secret';
import { ApiKeysService } from './api-keys.service';
import { EntraTokenVerifier } from './entra-token.verifier';
import { actorOf, hasAnyRole, Principal } from '../access/principal';

type Request = FastifyRequest & { principal?: Principal };

/**
 * Global and default-deny: a route is reachable only through `@Public()` or `@Access(roles)`.
 * Authentication (API key or Entra ID token) ⇒ 401 when it fails; the role check ⇒ 403. Both
 * refusals are audited (rate-limited per key prefix or source IP).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    private readonly entra: EntraTokenVerifier,
    private readonly refusals: RefusalRecorder,
    private readonly hmac: AuditHmac,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (rule?.public) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const principal = await this.authenticate(request);
    request.principal = principal;
    const allowed = rule !== undefined && hasAnyRole(principal, rule.roles);
    if (!allowed) {
      const problem = rule
        ? problems.forbidden(`This needs one of the roles ${rule.roles.join(', ')}; the caller has ${principal.roles.join(', ') || 'none'}.`)
        : problems.forbidden('This route has no access rule and is closed.');
      await this.refusals.record({
        event: 'authz.refused',
        key: `${principal.type}:${principal.id}`,
        actor: actorOf(principal),
        requestId: request.id,
        data: { method: request.method, route: request.routeOptions.url, sourceIp: request.ip, roles: principal.roles, required: rule?.roles ?? [] },
      });
      throw problem;
    }
    return true;
  }

  private async authenticate(request: Request): Promise<Principal> {
    const header = request.headers.authorization;
    const match = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    const credential = match?.[1];
    try {
      if (!header) throw problems.unauthenticated();
      if (!credential) throw problems.invalidCredential('The Authorization header must be "Bearer <credential>".');
      return looksLikeApiKey(credential) ? await this.apiKeys.authenticate(credential) : await this.entra.verify(credential);
    } catch (error) {
      if (error instanceof Problem && error.status === 401) await this.recordRefusal(request, credential, error.detail ?? error.title);
      throw error;
    }
  }

  /** The credential itself is never stored: a key's public prefix and an HMAC that proves which it was. */
  private recordRefusal(request: Request, credential: string | undefined, reason: string): Promise<void> {
    const isKey = credential !== undefined && looksLikeApiKey(credential);
    const prefix = isKey ? displayPrefix(credential) : undefined;
    return this.refusals.record({
      event: 'auth.refused',
      key: prefix ?? `ip:${request.ip}`,
      actor: isKey
        ? { type: 'apiKey', id: prefix!, name: 'presented API key' }
        : { type: 'system', id: 'anonymous', name: credential ? 'presented bearer token' : 'no credential' },
      requestId: request.id,
      data: {
        reason,
        method: request.method,
        route: request.routeOptions.url,
        sourceIp: request.ip,
        ...(credential ? { credentialHmac: this.hmac.of(credential) } : {}),
      },
    });
  }
}
