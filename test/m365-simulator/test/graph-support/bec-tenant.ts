/** A tenant with BEC persistence built the way a scenario builds it (defaults, derived ids, built-in apps). */
import { buildTenants, normaliseScenario, type TenantInput } from '../../src/scenario';
import type { SimTenant } from '../../src/types';
import { START, TENANT_ID } from './fake-context';

export const VICTIM_ID = '44444444-4444-4444-8444-444444444444';
export const ADMIN_ID = '55555555-5555-4555-8555-555555555555';
export const GUEST_ID = '66666666-6666-4666-8666-666666666666';
export const EVIL_APP_ID = '77777777-7777-4777-8777-777777777777';
export const TRUSTED_APP_ID = '88888888-8888-4888-8888-888888888888';
export const GROUP_ID = '99999999-9999-4999-8999-999999999999';
export const DYNAMIC_GROUP_ID = '99999999-9999-4999-8999-99999999999a';
export const ROLE_GROUP_ID = '99999999-9999-4999-8999-99999999999b';
export const AUTHENTICATOR_ID = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
export const MOBILE_ID = '3179e48a-750b-4051-897c-87b9720928f7';
export const ALT_MOBILE_ID = 'b6332ec1-7057-4abe-9331-3d72feddfe41';

const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;

export function becTenant(extra: Partial<TenantInput> = {}): SimTenant {
  const input: TenantInput = {
    tenantId: TENANT_ID,
    displayName: 'Contoso',
    domains: ['contoso.onmicrosoft.com', 'contoso.com'],
    apps: [{ clientId: '3c1b7a2e-5555-4f4f-9999-0a0b0c0d0e0f', displayName: 'Cordon', permissions: { graph: [], manage: [], defender: [] } }],
    users: [
      {
        id: VICTIM_ID,
        userPrincipalName: 'victim@contoso.com',
        displayName: 'Victim',
        memberOf: [],
        inboxRules: [
          { id: 'AQAAAAAAAA1=', displayName: 'fwd', sequence: 2, actions: { forwardTo: [{ emailAddress: { address: 'x@evil.example' } }] } },
          { id: 'AQAAAAAAAA2=', displayName: 'tidy', sequence: 1, actions: { markAsRead: true } },
          { id: 'AQAAAAAAAA3=', displayName: 'hidden', sequence: 3, hidden: true, actions: { delete: true } },
          { id: 'AQAAAAAAAA4=', displayName: 'locked', sequence: 4, isReadOnly: true, actions: { markAsRead: true } },
        ],
        authMethods: [
          { id: AUTHENTICATOR_ID, type: 'microsoftAuthenticator', createdDateTime: iso(START - 100 * DAY), properties: { displayName: 'iPhone' } },
          { type: 'phone', createdDateTime: iso(START - DAY), properties: { phoneNumber: '+1 5555550143', phoneType: 'mobile' } },
          { type: 'phone', createdDateTime: iso(START - DAY), properties: { phoneNumber: '+1 5555550144', phoneType: 'alternateMobile' } },
          { type: 'email', createdDateTime: iso(START - DAY), properties: { emailAddress: 'x@evil.example' } },
          { type: 'temporaryAccessPass', createdDateTime: iso(START - DAY), properties: { temporaryAccessPass: 'leaked!', lifetimeInMinutes: 60 } },
        ],
        defaultAuthMethodId: AUTHENTICATOR_ID,
      },
      { id: ADMIN_ID, userPrincipalName: 'gadmin@contoso.com', directoryRoles: ['Global Administrator'] },
      { id: GUEST_ID, userPrincipalName: 'guest_x.example#EXT#@contoso.onmicrosoft.com', mail: 'guest@x.example' },
    ],
    groups: [
      { id: GROUP_ID, displayName: 'Containment' },
      { id: DYNAMIC_GROUP_ID, displayName: 'All staff', groupTypes: ['DynamicMembership'] },
      { id: ROLE_GROUP_ID, displayName: 'Admins', isAssignableToRole: true },
    ],
    servicePrincipals: [
      { appId: EVIL_APP_ID, displayName: 'Mail Helper', publisherName: 'Mail Helper' },
      {
        appId: TRUSTED_APP_ID,
        displayName: 'Docs',
        publisherName: 'Fabrikam',
        verifiedPublisher: { displayName: 'Fabrikam', verifiedPublisherId: '123', addedDateTime: iso(START - 900 * DAY) },
      },
    ],
    oauth2PermissionGrants: [
      { clientId: EVIL_APP_ID, principalId: 'victim@contoso.com', scope: 'Mail.ReadWrite offline_access' },
      { clientId: TRUSTED_APP_ID, consentType: 'AllPrincipals', scope: 'User.Read' },
    ],
    appRoleAssignments: [{ principalId: 'victim@contoso.com', resourceId: TRUSTED_APP_ID, createdDateTime: iso(START - 10 * DAY) }],
    ...extra,
  };
  return buildTenants(normaliseScenario({ tenants: [input] }), new Date(START))[0];
}
