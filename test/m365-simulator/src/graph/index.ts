/**
 * Microsoft Graph v1.0 surface of the simulator (microsoft-notes §3, §4, §6, §7).
 *
 * Users (get, disable/enable, password reset, revoke sessions), Identity Protection, Defender XDR
 * alerts and incidents, Advanced Hunting, Entra reports, Purview audit search, Secure Score, and the persistence an
 * attacker leaves (inbox rules, consent grants and apps, authentication methods, group membership), and
 * email remediation (analyzedEmails and mailbox messages, microsoft-notes §15). Handlers return
 * Graph-shaped bodies and throw SimError with Graph's error body; the core server adds the
 * `request-id`, `client-request-id` and `Date` headers.
 */
import type { SimModule } from '../types';
import { createGraphEnv } from './access';
import { analyzedEmailRoutes } from './analyzed-emails';
import { appConsentRoutes } from './app-consents';
import { appPermissionRoutes } from './app-permissions';
import { auditLogRoutes } from './audit-logs';
import { auditQueryRoutes } from './audit-queries';
import { authMethodRoutes } from './auth-methods';
import { groupRoutes } from './groups';
import { huntingRoutes } from './hunting';
import { identityProtectionRoutes } from './identity-protection';
import { mailMessageRoutes } from './mail-messages';
import { mailRuleRoutes } from './mail-rules';
import { organizationRoutes } from './organization';
import { secureScoreRoutes } from './secure-score';
import { securityRoutes } from './security';
import { userListRoutes } from './user-list';
import { userMembershipRoutes } from './user-membership';
import { userRoutes } from './users';

export const graphModule: SimModule = (ctx) => {
  const env = createGraphEnv(ctx);
  return [
    ...userRoutes(env),
    ...userMembershipRoutes(env),
    ...userListRoutes(env),
    ...organizationRoutes(env),
    ...identityProtectionRoutes(env),
    ...securityRoutes(env),
    ...huntingRoutes(env),
    ...auditLogRoutes(env),
    ...auditQueryRoutes(env),
    ...secureScoreRoutes(env),
    ...mailRuleRoutes(env),
    ...mailMessageRoutes(env),
    ...analyzedEmailRoutes(env),
    ...authMethodRoutes(env),
    ...groupRoutes(env),
    ...appPermissionRoutes(env),
    // last: it serves the single-segment `servicePrincipals(appId='…')` form
    ...appConsentRoutes(env),
  ];
};
