/**
 * Inbox rules: `GET|POST /v1.0/users/{id}/mailFolders/inbox/messageRules` and
 * `GET|PATCH|DELETE …/messageRules/{ruleId}` (microsoft-notes §9.1).
 *
 * Exchange Online answers these, so errors carry Exchange codes (`ErrorAccessDenied`, `ErrorInvalidUser`,
 * `ErrorItemNotFound`, `MailboxNotEnabledForRESTAPI`) inside Graph's error body. Hidden rules stay in the
 * mailbox but are never listed nor found by id (microsoft-notes M27).
 */
import { randomBytes } from 'node:crypto';
import type { RawRecord, SimMessageRule, SimRequest, SimResponse, SimRoute, SimUser } from '../types';
import type { GraphEnv } from './access';
import { exchangeError, openMailbox } from './mailbox';

const READ_ROLES = ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'];
const WRITE_ROLES = ['MailboxSettings.ReadWrite'];

/** Properties a client may send; `id`, `hasError` and `isReadOnly` are the server's. */
const WRITABLE = ['displayName', 'sequence', 'isEnabled', 'conditions', 'exceptions', 'actions'];
const RECIPIENT_ACTIONS = ['forwardTo', 'forwardAsAttachmentTo', 'redirectTo'];

/** Authenticates, checks the role, finds the mailbox and counts the call against the mailbox's Outlook budget. */
function mailbox(env: GraphEnv, req: SimRequest, roles: string[]): SimUser {
  return openMailbox(env, req, roles).user;
}

function visibleRules(user: SimUser): SimMessageRule[] {
  return (user.inboxRules ?? []).filter((r) => !r.hidden).sort((a, b) => a.sequence - b.sequence);
}

function findRule(env: GraphEnv, req: SimRequest, user: SimUser): SimMessageRule {
  const rule = visibleRules(user).find((r) => r.id === req.params.ruleId);
  if (!rule) throw exchangeError(env, req, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
  return rule;
}

export function ruleJson(rule: SimMessageRule): RawRecord {
  return {
    id: rule.id,
    displayName: rule.displayName,
    sequence: rule.sequence,
    isEnabled: rule.isEnabled,
    hasError: rule.hasError ?? false,
    isReadOnly: rule.isReadOnly ?? false,
    conditions: rule.conditions ?? {},
    actions: rule.actions ?? {},
    ...(rule.exceptions ? { exceptions: rule.exceptions } : {}),
  };
}

function context(req: SimRequest, user: SimUser, entity: boolean): string {
  return `${req.baseUrl}/v1.0/$metadata#users('${user.id}')/mailFolders('inbox')/messageRules${entity ? '/$entity' : ''}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function badBody(env: GraphEnv, req: SimRequest, message: string): Error {
  return exchangeError(env, req, 400, 'RequestBodyRead', message);
}

/** Graph's OData reader refuses unknown properties and wrong types before Exchange sees the rule. */
function validateRule(env: GraphEnv, req: SimRequest, creating: boolean): Partial<SimMessageRule> {
  if (!isObject(req.body)) throw badBody(env, req, 'Invalid request body: a JSON object is required.');
  const body = req.body;
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.') || key === 'id' || key === 'hasError' || key === 'isReadOnly') continue;
    if (!WRITABLE.includes(key)) {
      throw badBody(
        env,
        req,
        `The property '${key}' does not exist on type 'microsoft.graph.messageRule'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
  }
  if ('displayName' in body && typeof body.displayName !== 'string')
    throw badBody(env, req, "Cannot convert the literal to the expected type 'Edm.String' for 'displayName'.");
  if ('isEnabled' in body && typeof body.isEnabled !== 'boolean')
    throw badBody(env, req, "Cannot convert the literal to the expected type 'Edm.Boolean' for 'isEnabled'.");
  if ('sequence' in body && !(Number.isInteger(body.sequence) && (body.sequence as number) > 0)) {
    throw exchangeError(env, req, 400, 'ErrorInvalidRequest', 'The rule sequence must be a positive integer.');
  }
  for (const key of ['conditions', 'exceptions', 'actions']) {
    if (key in body && !isObject(body[key])) throw badBody(env, req, `An unexpected value was found for '${key}': an object is required.`);
  }
  const actions = (body.actions ?? {}) as Record<string, unknown>;
  for (const key of RECIPIENT_ACTIONS) {
    if (!(key in actions)) continue;
    // redirectTo is a collection in the current schema, a single recipient in older revisions: accept both.
    const recipients = Array.isArray(actions[key]) ? (actions[key] as unknown[]) : [actions[key]];
    const ok = recipients.every(
      (r) => isObject(r) && isObject(r.emailAddress) && typeof r.emailAddress.address === 'string' && r.emailAddress.address.includes('@'),
    );
    if (!ok) throw exchangeError(env, req, 400, 'ErrorInvalidRecipients', `At least one recipient in '${key}' is not valid.`);
  }
  if (creating && (typeof body.displayName !== 'string' || body.displayName.trim() === '')) {
    throw exchangeError(env, req, 400, 'ErrorInvalidRequest', "The rule's displayName is required.");
  }
  const patch: Partial<SimMessageRule> = {};
  for (const key of WRITABLE) if (key in body) (patch as Record<string, unknown>)[key] = body[key];
  return patch;
}

function readOnly(env: GraphEnv, req: SimRequest): Error {
  return exchangeError(env, req, 400, 'ErrorInvalidRequest', 'The rule is read-only and cannot be modified or deleted through the REST API.');
}

function listRules(env: GraphEnv, req: SimRequest): SimResponse {
  const user = mailbox(env, req, READ_ROLES);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { '@odata.context': context(req, user, false), value: visibleRules(user).map(ruleJson) },
  };
}

function getRule(env: GraphEnv, req: SimRequest): SimResponse {
  const user = mailbox(env, req, READ_ROLES);
  const rule = findRule(env, req, user);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: { '@odata.context': context(req, user, true), ...ruleJson(rule) } };
}

function createRule(env: GraphEnv, req: SimRequest): SimResponse {
  const user = mailbox(env, req, WRITE_ROLES);
  const fields = validateRule(env, req, true);
  const rules = (user.inboxRules ??= []);
  const rule: SimMessageRule = {
    // Exchange rule ids are short base64 strings such as "AQAAAJ5dZqA=".
    id: `AQAAA${randomBytes(5).toString('base64')}`,
    displayName: String(fields.displayName),
    sequence: fields.sequence ?? Math.max(0, ...rules.map((r) => r.sequence)) + 1,
    isEnabled: fields.isEnabled ?? true,
    conditions: fields.conditions,
    exceptions: fields.exceptions,
    actions: fields.actions,
  };
  rules.push(rule);
  return { status: 201, headers: { 'content-type': 'application/json' }, body: { '@odata.context': context(req, user, true), ...ruleJson(rule) } };
}

function updateRule(env: GraphEnv, req: SimRequest): SimResponse {
  const user = mailbox(env, req, WRITE_ROLES);
  const rule = findRule(env, req, user);
  const patch = validateRule(env, req, false);
  if (rule.isReadOnly) throw readOnly(env, req);
  Object.assign(rule, patch);
  // The documented answer is 200 with the whole updated rule.
  return { status: 200, headers: { 'content-type': 'application/json' }, body: { '@odata.context': context(req, user, true), ...ruleJson(rule) } };
}

function deleteRule(env: GraphEnv, req: SimRequest): SimResponse {
  const user = mailbox(env, req, WRITE_ROLES);
  const rule = findRule(env, req, user);
  if (rule.isReadOnly) throw readOnly(env, req);
  user.inboxRules = (user.inboxRules ?? []).filter((r) => r !== rule);
  return { status: 204 };
}

export function mailRuleRoutes(env: GraphEnv): SimRoute[] {
  const base = '/v1.0/users/:id/mailFolders/inbox/messageRules';
  return [
    { host: 'graph', method: 'GET', pattern: base, handler: (req) => listRules(env, req) },
    { host: 'graph', method: 'POST', pattern: base, handler: (req) => createRule(env, req) },
    { host: 'graph', method: 'GET', pattern: `${base}/:ruleId`, handler: (req) => getRule(env, req) },
    { host: 'graph', method: 'PATCH', pattern: `${base}/:ruleId`, handler: (req) => updateRule(env, req) },
    { host: 'graph', method: 'DELETE', pattern: `${base}/:ruleId`, handler: (req) => deleteRule(env, req) },
  ];
}
