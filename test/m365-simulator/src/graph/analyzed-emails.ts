/**
 * Defender for Office 365 through Graph (microsoft-notes §15): `GET /v1.0/security/collaboration/analyzedEmails`
 * and `POST …/analyzedEmails/remediate`.
 *
 * One analyzed email per delivered copy (a networkMessageId and a recipient), built from the mailboxes, so
 * `latestDelivery` always says where the copy is now. `remediate` answers 202 with an empty body and a
 * portal-only Location (an Action center link, microsoft-notes M53); the mailboxes change `remediationDelayMs`
 * of simulated time later, whenever the tenant's mail is next read (`settleRemediations`). The simulator
 * is a Global-cloud Graph: the v1.0 routes are Global only (microsoft-notes M53) and a client must not call
 * them for a tenant in another cloud.
 */
import { createHash } from 'node:crypto';
import type {
  RawRecord,
  SimEmailRemediation,
  SimMailFolder,
  SimMailMessage,
  SimRequest,
  SimResponse,
  SimRoute,
  SimTenant,
  SimUser,
  VerifiedToken,
} from '../types';
import { authorize, throttle, type GraphEnv } from './access';
import { graphError } from './errors';
import { moveMessage } from './mail-messages';
import { listResponse } from './paging';

const READ_ROLES = ['SecurityAnalyzedMessage.Read.All', 'SecurityAnalyzedMessage.ReadWrite.All'];
const WRITE_ROLES = ['SecurityAnalyzedMessage.ReadWrite.All'];

export const REMEDIATION_ACTIONS = ['moveToJunk', 'moveToInbox', 'hardDelete', 'softDelete', 'moveToDeletedItems'] as const;
const SEVERITIES = ['low', 'medium', 'high'];

/** Where each remediation action puts a copy. */
const DESTINATION: Record<(typeof REMEDIATION_ACTIONS)[number], SimMailFolder> = {
  moveToJunk: 'junkemail',
  moveToInbox: 'inbox',
  hardDelete: 'recoverableitemspurges',
  softDelete: 'recoverableitemsdeletions',
  moveToDeletedItems: 'deleteditems',
};

/** `latestDelivery.location` for a folder (deliveryLocation members; what a purge reads as is [unverified], microsoft-notes M54). */
const LOCATION: Record<SimMailFolder, string> = {
  inbox: 'inbox_folder',
  junkemail: 'junkFolder',
  deleteditems: 'deletedFolder',
  recoverableitemsdeletions: 'deletedFolder',
  recoverableitemspurges: 'deletedFolder',
};

function gate(env: GraphEnv, req: SimRequest, roles: string[]): VerifiedToken {
  const token = authorize(env, req, 'security', roles);
  throttle(env, req, token, 'security');
  if (token.tenant.licences.defenderForOffice === false) {
    // What Graph answers without the licence is not documented (microsoft-notes M53): a 403 that says so.
    throw graphError(env.ctx.clock, req, 403, 'Forbidden', 'The tenant is not licensed for Microsoft Defender for Office 365.');
  }
  return token;
}

function mailboxUser(tenant: SimTenant, address: string): SimUser | undefined {
  const key = address.toLowerCase();
  return tenant.users.find((u) => u.userPrincipalName.toLowerCase() === key || (u.mail ?? '').toLowerCase() === key);
}

function analyzedId(m: SimMailMessage, recipient: string): string {
  const digits = parseInt(createHash('sha256').update(`${m.networkMessageId}:${recipient.toLowerCase()}`).digest('hex').slice(0, 8), 16);
  return `${m.networkMessageId}-${digits}-1`;
}

function analyzedJson(user: SimUser, m: SimMailMessage): RawRecord {
  const recipient = String(user.mail ?? user.userPrincipalName);
  return {
    '@odata.type': '#microsoft.graph.security.analyzedEmail',
    id: analyzedId(m, recipient),
    loggedDateTime: m.receivedDateTime,
    networkMessageId: m.networkMessageId,
    internetMessageId: m.internetMessageId,
    recipientEmailAddress: recipient,
    senderDetail: { fromAddress: m.from, mailFromAddress: m.from },
    subject: m.subject,
    directionality: 'inbound',
    originalDelivery: { action: 'delivered', location: 'inbox_folder' },
    latestDelivery: { action: 'delivered', location: LOCATION[m.folder] },
    threatTypes: m.threatTypes ?? [],
    attachments: [],
    urls: [],
    alertIds: [],
  };
}

/** Applies the remediations that are due: each (networkMessageId, recipient) copy moves where the action says. */
export function settleRemediations(tenant: SimTenant, nowMs: number): void {
  for (const r of tenant.emailRemediations ?? []) {
    if (r.status !== 'pending' || r.applyAtMs > nowMs) continue;
    r.results = r.analyzedEmails.map(({ networkMessageId, recipientEmailAddress }) => {
      const user = mailboxUser(tenant, recipientEmailAddress);
      const copy = user?.messages?.find((m) => m.networkMessageId.toLowerCase() === networkMessageId.toLowerCase());
      if (!copy || copy.folder === 'recoverableitemspurges') return { networkMessageId, recipientEmailAddress, outcome: 'not-found' as const };
      const folder = DESTINATION[r.action as keyof typeof DESTINATION];
      if (copy.folder === folder) return { networkMessageId, recipientEmailAddress, outcome: 'already' as const };
      moveMessage(copy, folder);
      return { networkMessageId, recipientEmailAddress, outcome: 'remediated' as const };
    });
    r.status = 'completed';
  }
}

function badRequest(env: GraphEnv, req: SimRequest, message: string): Error {
  return graphError(env.ctx.clock, req, 400, 'BadRequest', message);
}

/** `startTime` / `endTime`: optional; a date or a date-time. */
function timeParam(env: GraphEnv, req: SimRequest, name: string): number | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(ms)) throw badRequest(env, req, `The value '${raw}' of the parameter '${name}' is not a valid DateTime.`);
  return ms;
}

function listAnalyzed(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, READ_ROLES);
  const now = env.ctx.clock.nowMs();
  settleRemediations(token.tenant, now);
  // Without a window the search covers the last 30 days ([unverified] default, microsoft-notes M54).
  const start = timeParam(env, req, 'startTime') ?? now - 30 * 86_400_000;
  const end = timeParam(env, req, 'endTime') ?? now;
  if (start > end) throw badRequest(env, req, 'startTime must be earlier than endTime.');
  const items = token.tenant.users.flatMap((u) =>
    (u.messages ?? [])
      .filter((m) => {
        const at = Date.parse(m.receivedDateTime);
        return at >= start && at <= end;
      })
      .map((m) => analyzedJson(u, m)),
  );
  return listResponse(env.ctx.clock, req, items, {
    family: 'security',
    filter: { properties: ['networkMessageId', 'recipientEmailAddress'] },
    orderable: ['loggedDateTime'],
    defaultOrder: { property: 'loggedDateTime', desc: true },
    top: { default: 100, max: 1000, overflow: 'error' },
    context: 'security/collaboration/analyzedEmails',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The documented body: every parameter is required (microsoft-notes M53). */
function remediationBody(env: GraphEnv, req: SimRequest): Omit<SimEmailRemediation, 'bulkId' | 'submittedDateTime' | 'applyAtMs' | 'status'> {
  const body = req.body;
  if (!isObject(body)) throw badRequest(env, req, 'The request body must be a JSON object.');
  for (const name of ['displayName', 'description', 'severity', 'action', 'remediateSendersCopy', 'analyzedEmails']) {
    if (body[name] === undefined || body[name] === null) throw badRequest(env, req, `The parameter '${name}' is required.`);
  }
  if (typeof body.displayName !== 'string' || body.displayName.trim() === '')
    throw badRequest(env, req, "The parameter 'displayName' must be a non-empty string.");
  if (typeof body.description !== 'string') throw badRequest(env, req, "The parameter 'description' must be a string.");
  if (typeof body.severity !== 'string' || !SEVERITIES.includes(body.severity)) {
    throw badRequest(env, req, `Requested value '${String(body.severity)}' was not found for property 'severity'.`);
  }
  const action = body.action;
  if (action === 'moveToQuarantine') throw badRequest(env, req, "The remediation action 'moveToQuarantine' is not currently supported.");
  if (typeof action !== 'string' || !(REMEDIATION_ACTIONS as readonly string[]).includes(action)) {
    throw badRequest(env, req, `Requested value '${String(action)}' was not found for property 'action'.`);
  }
  // The documented sample sends the string "false"; Graph's reader takes it as a boolean.
  const senders = body.remediateSendersCopy;
  if (!(typeof senders === 'boolean' || senders === 'true' || senders === 'false')) {
    throw badRequest(env, req, "Cannot convert the literal to the expected type 'Edm.Boolean' for 'remediateSendersCopy'.");
  }
  if (!Array.isArray(body.analyzedEmails) || body.analyzedEmails.length === 0) {
    throw badRequest(env, req, "The parameter 'analyzedEmails' must list at least one email.");
  }
  const emails = body.analyzedEmails.map((e, i) => {
    if (!isObject(e) || typeof e.networkMessageId !== 'string' || e.networkMessageId === '') {
      throw badRequest(env, req, `analyzedEmails[${i}]: 'networkMessageId' is required.`);
    }
    if (typeof e.recipientEmailAddress !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(e.recipientEmailAddress)) {
      throw badRequest(env, req, `analyzedEmails[${i}]: 'recipientEmailAddress' must be an email address.`);
    }
    return { networkMessageId: e.networkMessageId, recipientEmailAddress: e.recipientEmailAddress };
  });
  return {
    displayName: body.displayName,
    description: body.description,
    severity: body.severity,
    action,
    remediateSendersCopy: senders === true || senders === 'true',
    analyzedEmails: emails,
  };
}

function remediate(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, WRITE_ROLES);
  if (!token.app) {
    throw graphError(env.ctx.clock, req, 403, 'Forbidden', 'Delegated permissions are not supported by this API: use an application token.');
  }
  const fields = remediationBody(env, req);
  const now = env.ctx.clock.nowMs();
  const remediation: SimEmailRemediation = {
    ...fields,
    bulkId: env.ctx.newGuid(),
    submittedDateTime: new Date(now).toISOString(),
    applyAtMs: now + env.options().mail.remediationDelayMs,
    status: 'pending',
  };
  (token.tenant.emailRemediations ??= []).push(remediation);
  const filters = encodeURIComponent(JSON.stringify({ bulkId: [remediation.bulkId] }));
  return {
    status: 202,
    headers: { location: `https://security.microsoft.com/action-center/history?filters=${filters}&tid=${token.tenant.tenantId}` },
  };
}

export function analyzedEmailRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/security/collaboration/analyzedEmails', handler: (req) => listAnalyzed(env, req) },
    { host: 'graph', method: 'POST', pattern: '/v1.0/security/collaboration/analyzedEmails/remediate', handler: (req) => remediate(env, req) },
  ];
}
