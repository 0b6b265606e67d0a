/**
 * Entra ID Protection: riskyUsers (list, get, confirmCompromised, dismiss) and riskDetections
 * (microsoft-notes §3.1, §3.3, §4.1).
 *
 * Every call needs Entra ID P2 and shares one throttle per tenant across all apps: 1 request per
 * second, answered with a 429 that has no Retry-After (microsoft-notes §3.5, M12).
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute, SimUser, VerifiedToken } from '../types';
import { authorize, requireP2, throttle, type GraphEnv } from './access';
import { recordDirectoryAudit } from './directory-audit';
import { graphError } from './errors';
import { listResponse } from './paging';

const RISKY_USER_READ = ['IdentityRiskyUser.Read.All', 'IdentityRiskyUser.ReadWrite.All'];
const RISKY_USER_WRITE = ['IdentityRiskyUser.ReadWrite.All'];
const RISK_EVENT_READ = ['IdentityRiskEvent.Read.All', 'IdentityRiskEvent.ReadWrite.All'];

/** Permission, then the shared throttle, then the licence. */
function gate(env: GraphEnv, req: SimRequest, roles: string[]): VerifiedToken {
  const token = authorize(env, req, 'identityProtection', roles);
  throttle(env, req, token, 'identityProtection');
  requireP2(env, req, token.tenant);
  return token;
}

function isRisky(user: SimUser): boolean {
  return user.riskState !== 'none' || user.riskLevel !== 'none' || user.riskLastUpdatedDateTime !== undefined;
}

function riskyUserJson(user: SimUser): RawRecord {
  return {
    id: user.id,
    isDeleted: false,
    isProcessing: false,
    riskLastUpdatedDateTime: user.riskLastUpdatedDateTime ?? null,
    riskLevel: user.riskLevel,
    riskState: user.riskState,
    riskDetail: user.riskDetail ?? 'none',
    userDisplayName: user.displayName,
    userPrincipalName: user.userPrincipalName,
  };
}

function notFound(env: GraphEnv, req: SimRequest, id: string): Error {
  return graphError(
    env.ctx.clock,
    req,
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

function listRiskyUsers(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, RISKY_USER_READ);
  const items = token.tenant.users.filter(isRisky).map(riskyUserJson);
  return listResponse(env.ctx.clock, req, items, {
    family: 'identityProtection',
    filter: { properties: ['riskLevel', 'riskState', 'riskLastUpdatedDateTime', 'userPrincipalName', 'riskDetail'] },
    orderable: ['riskLastUpdatedDateTime', 'userPrincipalName'],
    defaultOrder: { property: 'riskLastUpdatedDateTime', desc: true },
    // No documented page size; the sim pages by 20 and clamps larger $top values.
    top: { default: 20, max: 500, overflow: 'clamp' },
    context: 'identityProtection/riskyUsers',
  });
}

function getRiskyUser(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, RISKY_USER_READ);
  const user = token.tenant.users.find((u) => u.id.toLowerCase() === req.params.id.toLowerCase());
  if (!user || !isRisky(user)) throw notFound(env, req, req.params.id);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#identityProtection/riskyUsers/$entity`, ...riskyUserJson(user) },
  };
}

function userIdsFrom(env: GraphEnv, req: SimRequest): string[] {
  const body = req.body as { userIds?: unknown } | undefined;
  const ids = body?.userIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
    throw graphError(env.ctx.clock, req, 400, 'BadRequest', "The request body must contain a non-empty 'userIds' array of user object ids.");
  }
  return ids as string[];
}

/** Sets the users' risk; unknown ids are ignored, as the service does not report them. */
function riskAction(env: GraphEnv, req: SimRequest, action: 'confirmCompromised' | 'dismiss'): SimResponse {
  const token = gate(env, req, RISKY_USER_WRITE);
  const ids = userIdsFrom(env, req);
  const now = env.ctx.clock.now().toISOString();
  for (const id of ids) {
    const user = token.tenant.users.find((u) => u.id.toLowerCase() === id.toLowerCase());
    if (!user) continue;
    const before = { riskLevel: user.riskLevel, riskState: user.riskState };
    if (action === 'confirmCompromised') {
      Object.assign(user, { riskLevel: 'high', riskState: 'confirmedCompromised', riskDetail: 'adminConfirmedUserCompromised' });
      token.tenant.riskDetections.push({
        id: env.ctx.newGuid(),
        requestId: null,
        correlationId: null,
        riskEventType: 'adminConfirmedUserCompromised',
        riskState: 'confirmedCompromised',
        riskLevel: 'high',
        riskDetail: 'adminConfirmedUserCompromised',
        source: 'IdentityProtection',
        detectionTimingType: 'offline',
        activity: 'user',
        tokenIssuerType: 'AzureAD',
        ipAddress: null,
        location: null,
        activityDateTime: now,
        detectedDateTime: now,
        lastUpdatedDateTime: now,
        userId: user.id,
        userDisplayName: user.displayName,
        userPrincipalName: user.userPrincipalName,
        additionalInfo: '[]',
      });
    } else {
      Object.assign(user, { riskLevel: 'none', riskState: 'dismissed', riskDetail: 'adminDismissedAllRiskForUser' });
    }
    user.riskLastUpdatedDateTime = now;
    recordDirectoryAudit(env.ctx, token.tenant, token, {
      activity: action === 'confirmCompromised' ? 'Confirm user compromised' : 'Dismiss user risk',
      category: 'IdentityProtection',
      loggedByService: 'Identity Protection',
      target: user,
      modifiedProperties: [
        { displayName: 'RiskLevel', oldValue: before.riskLevel, newValue: user.riskLevel },
        { displayName: 'RiskState', oldValue: before.riskState, newValue: user.riskState },
      ],
    });
  }
  return { status: 204 };
}

function listRiskDetections(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, RISK_EVENT_READ);
  return listResponse(env.ctx.clock, req, token.tenant.riskDetections, {
    family: 'identityProtection',
    filter: {
      properties: [
        'detectedDateTime',
        'activityDateTime',
        'lastUpdatedDateTime',
        'riskEventType',
        'riskLevel',
        'riskState',
        'userId',
        'userPrincipalName',
        'ipAddress',
      ],
    },
    orderable: ['detectedDateTime', 'activityDateTime', 'lastUpdatedDateTime'],
    defaultOrder: { property: 'detectedDateTime', desc: true },
    // $top above 500 is refused (found by trial, microsoft-graph-docs-contrib#8886; microsoft-notes M12).
    top: { default: 100, max: 500, overflow: 'error' },
    context: 'identityProtection/riskDetections',
  });
}

function getRiskDetection(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, RISK_EVENT_READ);
  const found = token.tenant.riskDetections.find((d) => String(d.id).toLowerCase() === req.params.id.toLowerCase());
  if (!found) throw notFound(env, req, req.params.id);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#identityProtection/riskDetections/$entity`, ...found },
  };
}

export function identityProtectionRoutes(env: GraphEnv): SimRoute[] {
  const base = '/v1.0/identityProtection';
  return [
    { host: 'graph', method: 'GET', pattern: `${base}/riskyUsers`, handler: (req) => listRiskyUsers(env, req) },
    { host: 'graph', method: 'GET', pattern: `${base}/riskyUsers/:id`, handler: (req) => getRiskyUser(env, req) },
    {
      host: 'graph',
      method: 'POST',
      pattern: `${base}/riskyUsers/confirmCompromised`,
      handler: (req) => riskAction(env, req, 'confirmCompromised'),
    },
    { host: 'graph', method: 'POST', pattern: `${base}/riskyUsers/dismiss`, handler: (req) => riskAction(env, req, 'dismiss') },
    { host: 'graph', method: 'GET', pattern: `${base}/riskDetections`, handler: (req) => listRiskDetections(env, req) },
    { host: 'graph', method: 'GET', pattern: `${base}/riskDetections/:id`, handler: (req) => getRiskDetection(env, req) },
  ];
}
