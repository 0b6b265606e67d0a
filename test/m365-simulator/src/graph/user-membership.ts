/**
 * `GET /v1.0/users/{id|upn}/memberOf`: the groups and directory roles a user belongs to, so a
 * client can tell a privileged target before acting on it (microsoft-notes §4.3:
 * check the target's role assignments). Listed in microsoft-notes §3.1; shaped as Graph's
 * directoryObject collection (`#microsoft.graph.group` / `#microsoft.graph.directoryRole`).
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute } from '../types';
import { authorize, servicePrincipalId, type GraphEnv } from './access';
import { listResponse } from './paging';
import { findUser, userNotFound } from './users';

const ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'GroupMember.Read.All'];

/** Built-in role template ids (stable across tenants). */
const ROLE_TEMPLATES: Record<string, string> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Authentication Administrator': '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'Password Administrator': '966707d0-3269-4727-9be2-8c3a10f19b9d',
  'Authentication Administrator': 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  'Security Administrator': '194ae4cb-b126-40b2-bd5b-6091b380977d',
  'Security Reader': '5d6b6bb7-de71-4623-b4af-96380a352509',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'SharePoint Administrator': 'f28a1f50-f6e7-4571-818b-6a12f2af6b6c',
  'Directory Readers': '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
};

function memberOf(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', ROLES);
  const tenant = token.tenant;
  const user = findUser(tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  const groups: RawRecord[] = tenant.groups
    .filter((g) => user.memberOf.includes(g.id))
    .map((g) => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName }));
  const roles: RawRecord[] = user.directoryRoles.map((name) => ({
    '@odata.type': '#microsoft.graph.directoryRole',
    // A tenant's directoryRole object has its own id; the template id is the same everywhere.
    id: servicePrincipalId(`${tenant.tenantId}:${name}`),
    displayName: name,
    roleTemplateId: ROLE_TEMPLATES[name] ?? servicePrincipalId(`template:${name}`),
  }));
  return listResponse(env.ctx.clock, req, [...groups, ...roles], {
    family: 'directory',
    orderable: ['displayName'],
    defaultOrder: { property: 'displayName', desc: false },
    top: { default: 100, max: 999, overflow: 'error' },
    context: 'directoryObjects',
  });
}

export function userMembershipRoutes(env: GraphEnv): SimRoute[] {
  return [{ host: 'graph', method: 'GET', pattern: '/v1.0/users/:id/memberOf', handler: (req) => memberOf(env, req) }];
}
