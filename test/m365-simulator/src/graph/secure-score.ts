/**
 * Microsoft Secure Score: `security/secureScores` (one object per day, newest first; `$top=1` is
 * the latest) and `security/secureScoreControlProfiles` (microsoft-notes §3.1). Both share the security
 * throttle (microsoft-notes §3.5).
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute, VerifiedToken } from '../types';
import { authorize, throttle, type GraphEnv } from './access';
import { graphError } from './errors';
import { listResponse } from './paging';

const ROLES = ['SecurityEvents.Read.All', 'SecurityEvents.ReadWrite.All'];

function gate(env: GraphEnv, req: SimRequest): VerifiedToken {
  const token = authorize(env, req, 'security', ROLES);
  throttle(env, req, token, 'security');
  return token;
}

function getOne(env: GraphEnv, req: SimRequest, items: RawRecord[], context: string): SimResponse {
  const found = items.find((i) => String(i.id) === req.params.id);
  if (!found) throw graphError(env.ctx.clock, req, 404, 'NotFound', `The entity '${req.params.id}' was not found.`);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#${context}/$entity`, ...found },
  };
}

function listSecureScores(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req);
  return listResponse(env.ctx.clock, req, token.tenant.secureScores, {
    family: 'security',
    filter: { properties: ['createdDateTime', 'azureTenantId'] },
    orderable: ['createdDateTime'],
    defaultOrder: { property: 'createdDateTime', desc: true },
    top: { default: 100, max: 1000, overflow: 'clamp' },
    context: 'security/secureScores',
  });
}

function listControlProfiles(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req);
  return listResponse(env.ctx.clock, req, token.tenant.secureScoreControlProfiles, {
    family: 'security',
    filter: {
      properties: ['id', 'controlCategory', 'service', 'tier', 'actionType', 'lastModifiedDateTime', 'deprecated', 'maxScore'],
    },
    orderable: ['rank', 'id', 'lastModifiedDateTime', 'maxScore'],
    defaultOrder: { property: 'rank', desc: false },
    top: { default: 100, max: 1000, overflow: 'clamp' },
    context: 'security/secureScoreControlProfiles',
  });
}

export function secureScoreRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/security/secureScores', handler: (req) => listSecureScores(env, req) },
    {
      host: 'graph',
      method: 'GET',
      pattern: '/v1.0/security/secureScores/:id',
      handler: (req) => getOne(env, req, gate(env, req).tenant.secureScores, 'security/secureScores'),
    },
    {
      host: 'graph',
      method: 'GET',
      pattern: '/v1.0/security/secureScoreControlProfiles',
      handler: (req) => listControlProfiles(env, req),
    },
    {
      host: 'graph',
      method: 'GET',
      pattern: '/v1.0/security/secureScoreControlProfiles/:id',
      handler: (req) => getOne(env, req, gate(env, req).tenant.secureScoreControlProfiles, 'security/secureScoreControlProfiles'),
    },
  ];
}
