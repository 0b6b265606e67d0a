/**
 * Messages in a mailbox (microsoft-notes §15): `GET /v1.0/users/{id}/messages` (and per folder), one message,
 * `DELETE` (a soft delete into Recoverable Items\Deletions), `POST …/permanentDelete` and `POST …/move`.
 *
 * Exchange Online answers these, so errors carry Exchange codes inside Graph's error body. A message
 * has two ids: the default REST id changes on every move, the immutable id (served with
 * `Prefer: IdType="ImmutableId"`) does not (microsoft-notes M55). Outlook lets one app have four requests in
 * flight per mailbox; the fifth is answered 429 (microsoft-notes M56).
 */
import { createHash } from 'node:crypto';
import type { RawRecord, SimMailFolder, SimMailMessage, SimRequest, SimResponse, SimRoute, SimUser, VerifiedToken } from '../types';
import type { GraphEnv } from './access';
import { settleRemediations } from './analyzed-emails';
import { exchangeError, openMailbox } from './mailbox';
import { listResponse, queryOption } from './paging';

const READ_ROLES = ['Mail.Read', 'Mail.ReadWrite', 'Mail.ReadBasic.All', 'Mail.ReadBasic'];
const WRITE_ROLES = ['Mail.ReadWrite'];

/** The folders `GET /users/{id}/messages` lists: the visible mailbox, not the Recoverable Items dumpster. */
const LISTED: SimMailFolder[] = ['inbox', 'junkemail', 'deleteditems'];
const WELL_KNOWN: SimMailFolder[] = ['inbox', 'junkemail', 'deleteditems', 'recoverableitemsdeletions', 'recoverableitemspurges'];

/** A folder's id in this mailbox (stable per mailbox and folder). */
export function folderId(user: SimUser, folder: SimMailFolder): string {
  return `AAMkAGFo${createHash('sha256').update(`${user.id}:${folder}`).digest('base64url').slice(0, 32)}AAA=`;
}

/** A well-known folder name (any case) or one of the mailbox's folder ids. */
export function folderNamed(user: SimUser, name: string): SimMailFolder | undefined {
  const lower = name.toLowerCase();
  return WELL_KNOWN.find((f) => f === lower || folderId(user, f) === name);
}

/** Moves a message: a new REST id whenever the folder changes; the immutable id stays (microsoft-notes M55). */
export function moveMessage(message: SimMailMessage, folder: SimMailFolder): void {
  if (message.folder === folder) return;
  message.folder = folder;
  message.restId = `AAMkAG${createHash('sha256').update(`${message.immutableId}:${folder}:${message.restId}`).digest('base64url').slice(0, 40)}`;
}

export function wantsImmutableIds(req: SimRequest): boolean {
  const prefer = req.headers.prefer;
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  return /IdType\s*=\s*"?ImmutableId"?/i.test(text);
}

const inFlight = new Map<string, number>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Authenticates, checks the role, finds the mailbox, counts the call against the mailbox's Outlook budget and
 * holds one of the app's concurrent slots on the mailbox while `work` runs.
 */
async function withMailbox(env: GraphEnv, req: SimRequest, roles: string[], work: (user: SimUser, token: VerifiedToken) => SimResponse): Promise<SimResponse> {
  const { user, token } = openMailbox(env, req, roles);
  const options = env.options();
  const limit = options.throttling.mailboxConcurrency;
  const key = `${token.tenant.tenantId}:${token.app?.clientId ?? 'user'}:${user.id}`;
  const busy = inFlight.get(key) ?? 0;
  if (limit > 0 && busy >= limit) {
    throw exchangeError(env, req, 429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
  }
  inFlight.set(key, busy + 1);
  try {
    if (options.mail.latencyMs > 0) await sleep(options.mail.latencyMs);
    settleRemediations(token.tenant, env.ctx.clock.nowMs());
    return work(user, token);
  } finally {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left <= 0) inFlight.delete(key);
    else inFlight.set(key, left);
  }
}

function address(text: string): RawRecord {
  return { emailAddress: { name: text.split('@')[0], address: text } };
}

export function messageJson(req: SimRequest, user: SimUser, m: SimMailMessage): RawRecord {
  return {
    id: wantsImmutableIds(req) ? m.immutableId : m.restId,
    createdDateTime: m.receivedDateTime,
    receivedDateTime: m.receivedDateTime,
    subject: m.subject,
    internetMessageId: m.internetMessageId,
    parentFolderId: folderId(user, m.folder),
    from: address(m.from),
    sender: address(m.from),
    toRecipients: [address(String(user.mail ?? user.userPrincipalName))],
    isRead: false,
  };
}

function notFound(env: GraphEnv, req: SimRequest): Error {
  return exchangeError(env, req, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

/** By immutable id or current REST id; a purged message (or a REST id from before a move) is not found. */
function findMessage(env: GraphEnv, req: SimRequest, user: SimUser): SimMailMessage {
  const id = req.params.messageId;
  const message = (user.messages ?? []).find((m) => m.folder !== 'recoverableitemspurges' && (m.immutableId === id || m.restId === id));
  if (!message) throw notFound(env, req);
  return message;
}

function list(env: GraphEnv, req: SimRequest, user: SimUser, folders: SimMailFolder[], context: string): SimResponse {
  const items = (user.messages ?? []).filter((m) => folders.includes(m.folder)).map((m) => messageJson(req, user, m));
  return listResponse(env.ctx.clock, req, items, {
    family: 'security',
    filter: { properties: ['internetMessageId', 'subject', 'receivedDateTime', 'parentFolderId'] },
    orderable: ['receivedDateTime', 'subject'],
    defaultOrder: { property: 'receivedDateTime', desc: true },
    top: { default: 10, max: 1000, overflow: 'clamp' },
    context,
  });
}

function listAll(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, READ_ROLES, (user) => list(env, req, user, LISTED, `users('${user.id}')/messages`));
}

function listFolder(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, READ_ROLES, (user) => {
    const folder = folderNamed(user, req.params.folder);
    if (!folder) throw exchangeError(env, req, 404, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    return list(env, req, user, [folder], `users('${user.id}')/mailFolders('${req.params.folder}')/messages`);
  });
}

/** `GET /users/{id}/mailFolders/{name or id}`: the folder's id (what `parentFolderId` holds). */
function getFolder(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, READ_ROLES, (user) => {
    const folder = folderNamed(user, req.params.folder);
    if (!folder) throw exchangeError(env, req, 404, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    const count = (user.messages ?? []).filter((m) => m.folder === folder).length;
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: {
        '@odata.context': `${req.baseUrl}/v1.0/$metadata#users('${user.id}')/mailFolders/$entity`,
        id: folderId(user, folder),
        displayName: folder,
        totalItemCount: count,
      },
    };
  });
}

function getMessage(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, READ_ROLES, (user) => {
    const message = findMessage(env, req, user);
    const select = queryOption(req, 'select');
    const body = messageJson(req, user, message);
    const shown = select ? Object.fromEntries(Object.entries(body).filter(([k]) => k === 'id' || select.split(',').some((s) => s.trim() === k))) : body;
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#users('${user.id}')/messages/$entity`, ...shown },
    };
  });
}

/** DELETE: the message goes to Recoverable Items\Deletions (a soft delete; from there, to Purges). */
function deleteMessage(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, WRITE_ROLES, (user) => {
    const message = findMessage(env, req, user);
    moveMessage(message, message.folder === 'recoverableitemsdeletions' ? 'recoverableitemspurges' : 'recoverableitemsdeletions');
    return { status: 204 };
  });
}

function permanentDelete(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, WRITE_ROLES, (user) => {
    const message = findMessage(env, req, user);
    moveMessage(message, 'recoverableitemspurges');
    return { status: 204 };
  });
}

function move(env: GraphEnv, req: SimRequest): Promise<SimResponse> {
  return withMailbox(env, req, WRITE_ROLES, (user) => {
    const message = findMessage(env, req, user);
    const body = req.body as RawRecord | undefined;
    const destination = body && typeof body === 'object' && !Array.isArray(body) ? body.destinationId : undefined;
    if (typeof destination !== 'string' || destination.length === 0) {
      throw exchangeError(env, req, 400, 'ErrorInvalidParameter', "The value of the parameter 'DestinationId' is empty.");
    }
    const folder = folderNamed(user, destination);
    if (!folder || folder === 'recoverableitemspurges') throw exchangeError(env, req, 400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    moveMessage(message, folder);
    return {
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: { '@odata.context': `${req.baseUrl}/v1.0/$metadata#users('${user.id}')/messages/$entity`, ...messageJson(req, user, message) },
    };
  });
}

export function mailMessageRoutes(env: GraphEnv): SimRoute[] {
  const base = '/v1.0/users/:id/messages';
  return [
    { host: 'graph', method: 'GET', pattern: base, handler: (req) => listAll(env, req) },
    { host: 'graph', method: 'GET', pattern: '/v1.0/users/:id/mailFolders/:folder/messages', handler: (req) => listFolder(env, req) },
    { host: 'graph', method: 'GET', pattern: '/v1.0/users/:id/mailFolders/:folder', handler: (req) => getFolder(env, req) },
    { host: 'graph', method: 'GET', pattern: `${base}/:messageId`, handler: (req) => getMessage(env, req) },
    { host: 'graph', method: 'DELETE', pattern: `${base}/:messageId`, handler: (req) => deleteMessage(env, req) },
    { host: 'graph', method: 'POST', pattern: `${base}/:messageId/permanentDelete`, handler: (req) => permanentDelete(env, req) },
    { host: 'graph', method: 'POST', pattern: `${base}/:messageId/move`, handler: (req) => move(env, req) },
  ];
}
