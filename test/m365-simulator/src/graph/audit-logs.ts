/**
 * Entra reports: `auditLogs/signIns` and `auditLogs/directoryAudits` (microsoft-notes §3.1, §3.3).
 *
 * Both share the reports throttle (5 requests / 10 s per app per tenant, 429 with Retry-After,
 * microsoft-notes §3.5). Sign-ins need Entra ID P1 or P2, else 403
 * `Authentication_RequestFromNonPremiumTenantOrB2CTenant` (microsoft-notes M11). Both list newest first.
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute, VerifiedToken } from '../types';
import { authorize, requirePremium, throttle, type GraphEnv } from './access';
import { graphError } from './errors';
import { listResponse } from './paging';

const AUDIT_ROLES = ['AuditLog.Read.All'];

function gate(env: GraphEnv, req: SimRequest, premium: boolean): VerifiedToken {
  const token = authorize(env, req, 'reports', AUDIT_ROLES);
  throttle(env, req, token, 'reports');
  if (premium) requirePremium(env, req, token.tenant);
  return token;
}

function getOne(env: GraphEnv, req: SimRequest, items: RawRecord[], context: string): SimResponse {
  const found = items.find((i) => String(i.id) === req.params.id);
  if (!found) {
    throw graphError(env.ctx.clock, req, 404, 'Request_ResourceNotFound', `Resource '${req.params.id}' does not exist.`);
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#${context}/$entity`, ...found },
  };
}

function listSignIns(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, true);
  return listResponse(env.ctx.clock, req, token.tenant.signIns, {
    family: 'reports',
    filter: {
      properties: [
        'id',
        'createdDateTime',
        'userId',
        'userPrincipalName',
        'userDisplayName',
        'appId',
        'appDisplayName',
        'ipAddress',
        'status/errorCode',
        'conditionalAccessStatus',
        'clientAppUsed',
        'correlationId',
        'isInteractive',
        'riskLevelDuringSignIn',
        'riskState',
        'location/city',
        'location/countryOrRegion',
      ],
    },
    orderable: ['createdDateTime'],
    defaultOrder: { property: 'createdDateTime', desc: true },
    // Default and maximum page size 1,000 (signin-list doc).
    top: { default: 1000, max: 1000, overflow: 'error' },
    context: 'auditLogs/signIns',
  });
}

function listDirectoryAudits(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, false);
  return listResponse(env.ctx.clock, req, token.tenant.directoryAudits, {
    family: 'reports',
    filter: {
      properties: [
        'activityDateTime',
        'activityDisplayName',
        'category',
        'correlationId',
        'loggedByService',
        'result',
        'initiatedBy/user/id',
        'initiatedBy/user/displayName',
        'initiatedBy/user/userPrincipalName',
        'initiatedBy/app/appId',
        'initiatedBy/app/displayName',
      ],
      lambdas: { targetResources: ['id', 'displayName', 'type', 'userPrincipalName'] },
    },
    orderable: ['activityDateTime'],
    defaultOrder: { property: 'activityDateTime', desc: true },
    // The maximum is not documented (microsoft-notes §3.1); the sim mirrors signIns.
    top: { default: 1000, max: 1000, overflow: 'error' },
    context: 'auditLogs/directoryAudits',
  });
}

export function auditLogRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/auditLogs/signIns', handler: (req) => listSignIns(env, req) },
    {
      host: 'graph',
      method: 'GET',
      pattern: '/v1.0/auditLogs/signIns/:id',
      handler: (req) => getOne(env, req, gate(env, req, true).tenant.signIns, 'auditLogs/signIns'),
    },
    { host: 'graph', method: 'GET', pattern: '/v1.0/auditLogs/directoryAudits', handler: (req) => listDirectoryAudits(env, req) },
    {
      host: 'graph',
      method: 'GET',
      pattern: '/v1.0/auditLogs/directoryAudits/:id',
      handler: (req) => getOne(env, req, gate(env, req, false).tenant.directoryAudits, 'auditLogs/directoryAudits'),
    },
  ];
}
