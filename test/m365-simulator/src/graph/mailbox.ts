import type { SimRequest, SimUser, VerifiedToken } from '../types';
import { authenticate, hasAnyRole, throttle, type GraphEnv } from './access';
import { graphError } from './errors';
import { findUser } from './users';

/** Outlook routes answer with Exchange's error codes in Graph's error shape. */
export function exchangeError(env: GraphEnv, req: SimRequest, status: number, code: string, message: string, headers?: Record<string, string>): Error {
  return graphError(env.ctx.clock, req, status, code, message, headers);
}

/**
 * What every Outlook route (inbox rules, messages) does first: authenticates, checks the role, finds the
 * user's mailbox (none for a guest or a user without mail) and counts the call against the mailbox's
 * Outlook budget.
 */
export function openMailbox(env: GraphEnv, req: SimRequest, roles: string[]): { user: SimUser; token: VerifiedToken } {
  const token = authenticate(env, req);
  if (!hasAnyRole(token, roles)) {
    throw exchangeError(env, req, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  }
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw exchangeError(env, req, 404, 'ErrorInvalidUser', `The requested user '${req.params.id}' is invalid.`);
  if (!(user.mailboxEnabled ?? (user.userType !== 'Guest' && Boolean(user.mail)))) {
    throw exchangeError(env, req, 404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  }
  throttle(env, req, token, 'outlook', user.id);
  return { user, token };
}
