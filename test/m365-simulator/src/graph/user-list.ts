/**
 * `GET /v1.0/users`: the directory's users, with `$filter` on the common identity properties,
 * `$select`, `$top` (1–999, Entra's page-size rule) and nextLink paging. Without `$select`, each
 * user carries Graph's default property set (no accountEnabled), as on `GET /users/{id}`.
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute } from '../types';
import { authorize, type GraphEnv } from './access';
import { graphError } from './errors';
import { applySelect, listResponse, queryOption } from './paging';
import { DEFAULT_PROPERTIES, EXTRA_PROPERTIES, READ_ROLES, userJson } from './users';

function listUsers(env: GraphEnv, req: SimRequest): SimResponse {
  const token = authorize(env, req, 'directory', READ_ROLES);
  const select = queryOption(req, 'select');
  const known = [...DEFAULT_PROPERTIES, ...EXTRA_PROPERTIES].map((p) => p.toLowerCase());
  for (const name of (select ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!known.includes(name.toLowerCase())) {
      throw graphError(env.ctx.clock, req, 400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
    }
  }
  // Filtering sees every property; the page shows the default set unless $select says otherwise.
  const items: RawRecord[] = token.tenant.users.map(userJson);
  const response = listResponse(env.ctx.clock, req, items, {
    family: 'directory',
    filter: {
      properties: ['id', 'userPrincipalName', 'displayName', 'mail', 'accountEnabled', 'userType', 'givenName', 'surname'],
      functions: ['startswith'],
    },
    orderable: ['displayName', 'userPrincipalName'],
    defaultOrder: { property: 'userPrincipalName', desc: false },
    top: { default: 100, max: 999, overflow: 'error' },
    context: 'users',
  });
  if (!select) {
    const body = response.body as { value: RawRecord[] };
    body.value = body.value.map((u) => applySelect(u, DEFAULT_PROPERTIES.join(',')));
  }
  return response;
}

export function userListRoutes(env: GraphEnv): SimRoute[] {
  return [{ host: 'graph', method: 'GET', pattern: '/v1.0/users', handler: (req) => listUsers(env, req) }];
}
