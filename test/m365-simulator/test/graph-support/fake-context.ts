/**
 * A hand-built SimContext for unit-testing Graph handlers without the core server.
 *
 * Tokens are unsigned: `Bearer ` + base64url(JSON `{ tid, appid, roles }`). `requireToken` decodes
 * them, so a test states exactly which roles a call carries.
 */
import { randomUUID } from 'node:crypto';
import {
  SimError,
  type SimApp,
  type SimClock,
  type SimContext,
  type SimRequest,
  type SimTenant,
  type SimUser,
  type VerifiedToken,
  type Scenario,
} from '../../src/types';

export const START = Date.parse('2025-03-04T10:00:00Z');
export const TENANT_ID = '8f1d2c3b-aaaa-bbbb-cccc-123456789abc';
export const APP_ID = '3c1b7a2e-5555-4f4f-9999-0a0b0c0d0e0f';

export class FakeClock implements SimClock {
  private ms = START;
  now(): Date {
    return new Date(this.ms);
  }
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function makeUser(overrides: Partial<SimUser> & { id: string; userPrincipalName: string }): SimUser {
  return {
    displayName: overrides.userPrincipalName.split('@')[0],
    mail: overrides.userPrincipalName,
    accountEnabled: true,
    userType: 'Member',
    directoryRoles: [],
    memberOf: [],
    signInSessionsValidFromDateTime: '2025-01-01T00:00:00Z',
    riskLevel: 'none',
    riskState: 'none',
    ...overrides,
  };
}

export const ALICE_ID = '11111111-1111-4111-8111-111111111111';
export const ADMIN_ID = '22222222-2222-4222-8222-222222222222';
export const HELPDESK_ID = '33333333-3333-4333-8333-333333333333';

export function makeApp(overrides: Partial<SimApp> = {}): SimApp {
  return {
    clientId: APP_ID,
    displayName: 'Cordon',
    clientSecrets: ['secret'],
    certificates: [],
    permissions: { graph: [], manage: [], defender: [] },
    directoryRoles: [],
    ...overrides,
  };
}

export function makeTenant(overrides: Partial<SimTenant> = {}): SimTenant {
  return {
    tenantId: TENANT_ID,
    displayName: 'Contoso',
    domains: ['contoso.onmicrosoft.com', 'contoso.com'],
    licences: { entraP1: true, entraP2: true, defenderForEndpoint: true, defenderXdr: true, unifiedAuditLog: true },
    apps: [makeApp()],
    users: [
      makeUser({ id: ALICE_ID, userPrincipalName: 'alice@contoso.com', displayName: 'Alice Example' }),
      makeUser({ id: ADMIN_ID, userPrincipalName: 'gadmin@contoso.com', directoryRoles: ['Global Administrator'] }),
      makeUser({ id: HELPDESK_ID, userPrincipalName: 'helpdesk@contoso.com', directoryRoles: ['Helpdesk Administrator'] }),
    ],
    groups: [],
    devices: [],
    servicePrincipals: [],
    oauth2PermissionGrants: [],
    appRoleAssignments: [],
    alerts: [],
    incidents: [],
    signIns: [],
    directoryAudits: [],
    riskDetections: [],
    secureScores: [],
    secureScoreControlProfiles: [],
    auditRecords: [],
    ...overrides,
  };
}

export function tokenFor(roles: string[], opts: { tid?: string; appid?: string } = {}): string {
  const payload = { tid: opts.tid ?? TENANT_ID, appid: opts.appid ?? APP_ID, roles };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

function unauthorized(code: string, message: string): SimError {
  return new SimError({ status: 401, body: { error: { code, message } } });
}

export interface FakeContext extends SimContext {
  clock: FakeClock;
}

export function fakeContext(tenants: SimTenant[], scenario: Partial<Scenario> = {}): FakeContext {
  const map = new Map(tenants.map((t) => [t.tenantId, t]));
  const clock = new FakeClock();
  return {
    clock,
    tenants: map,
    scenario: { tenants: [], ...scenario },
    findTenant: (idOrDomain) => [...map.values()].find((t) => t.tenantId === idOrDomain || t.domains.some((d) => d.toLowerCase() === idOrDomain.toLowerCase())),
    requireToken(req: SimRequest, _resource, anyOf?: string[]): VerifiedToken {
      const header = req.headers.authorization;
      if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
        throw unauthorized('InvalidAuthenticationToken', 'Access token is empty.');
      }
      let claims: { tid: string; appid: string; roles: string[] };
      try {
        claims = JSON.parse(Buffer.from(header.slice(7), 'base64url').toString('utf8'));
      } catch {
        throw unauthorized('InvalidAuthenticationToken', 'Access token validation failure.');
      }
      const tenant = map.get(claims.tid);
      if (!tenant) throw unauthorized('InvalidAuthenticationToken', 'Unknown tenant.');
      if (anyOf && !anyOf.some((r) => claims.roles.includes(r))) {
        throw new SimError({ status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges.' } } });
      }
      return {
        tenant,
        app: tenant.apps.find((a) => a.clientId === claims.appid),
        audience: 'https://graph.microsoft.com',
        roles: claims.roles,
        claims: { ...claims },
      };
    },
    baseUrls: () => ({
      login: 'https://localhost:9441',
      graph: 'https://localhost:9443',
      manage: 'https://localhost:9444',
      defender: 'https://localhost:9445',
    }),
    newGuid: () => randomUUID(),
  };
}
