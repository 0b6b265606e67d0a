/**
 * Authentication methods (microsoft-notes §9.3): `GET /v1.0/users/{id}/authentication/methods[/{id}]`,
 * and per type `GET …/authentication/{type}Methods[/{id}]` and `DELETE …/{type}Methods/{id}`.
 *
 * Each type has its own `@odata.type`; `createdDateTime` is served only where the type has it (not on
 * phone, email or software OATH methods). Secrets (password, TAP, OATH key) are always null. The
 * password method is listed but has no DELETE; the default MFA method cannot be deleted while others
 * remain (microsoft-notes M35).
 */
import type { RawRecord, SimAuthMethod, SimAuthMethodType, SimRequest, SimResponse, SimRoute, SimUser } from '../types';
import { authorize, throttle, type GraphEnv } from './access';
import { recordDirectoryAudit } from './directory-audit';
import { graphError } from './errors';
import { listResponse } from './paging';
import { findUser, userNotFound } from './users';

interface MethodType {
  type: SimAuthMethodType;
  segment: string;
  odataType: string;
  /** Whether the Graph resource has createdDateTime. */
  created: boolean;
  /** Per-method permissions that also cover this type (beside UserAuthenticationMethod.*). */
  readRoles: string[];
  writeRoles: string[];
  /** Properties served when the scenario gives none; secrets are null. */
  defaults: (m: SimAuthMethod) => RawRecord;
  deletable: boolean;
  /** How the Entra audit names the method ("Admin deleted security info"). */
  auditName: string;
}

const TYPES: MethodType[] = [
  {
    type: 'password',
    segment: 'passwordMethods',
    odataType: 'passwordAuthenticationMethod',
    created: true,
    readRoles: [],
    writeRoles: [],
    defaults: () => ({ password: null }),
    deletable: false,
    auditName: 'Password',
  },
  {
    type: 'phone',
    segment: 'phoneMethods',
    odataType: 'phoneAuthenticationMethod',
    created: false,
    readRoles: ['UserAuthMethod-Phone.Read.All', 'UserAuthMethod-Phone.ReadWrite.All'],
    writeRoles: ['UserAuthMethod-Phone.ReadWrite.All'],
    defaults: () => ({ phoneNumber: '+1 2065550100', phoneType: 'mobile', smsSignInState: 'notSupported' }),
    deletable: true,
    auditName: 'Phone',
  },
  {
    type: 'microsoftAuthenticator',
    segment: 'microsoftAuthenticatorMethods',
    odataType: 'microsoftAuthenticatorAuthenticationMethod',
    created: true,
    readRoles: ['UserAuthMethod-MicrosoftAuthApp.Read.All', 'UserAuthMethod-MicrosoftAuthApp.ReadWrite.All'],
    writeRoles: ['UserAuthMethod-MicrosoftAuthApp.ReadWrite.All'],
    defaults: () => ({ displayName: 'Phone', deviceTag: 'SoftwareTokenActivated', phoneAppVersion: '6.8.7' }),
    deletable: true,
    auditName: 'Microsoft Authenticator',
  },
  {
    type: 'fido2',
    segment: 'fido2Methods',
    odataType: 'fido2AuthenticationMethod',
    created: true,
    readRoles: ['UserAuthMethod-Passkey.Read.All', 'UserAuthMethod-Passkey.ReadWrite.All'],
    writeRoles: ['UserAuthMethod-Passkey.ReadWrite.All'],
    defaults: () => ({
      displayName: 'Security key',
      aaGuid: '00000000-0000-0000-0000-000000000000',
      model: null,
      attestationCertificates: [],
      attestationLevel: 'notAttested',
    }),
    deletable: true,
    auditName: 'FIDO2 security key',
  },
  {
    type: 'softwareOath',
    segment: 'softwareOathMethods',
    odataType: 'softwareOathAuthenticationMethod',
    created: false,
    readRoles: [],
    writeRoles: [],
    defaults: () => ({ secretKey: null }),
    deletable: true,
    auditName: 'Software OATH token',
  },
  {
    type: 'email',
    segment: 'emailMethods',
    odataType: 'emailAuthenticationMethod',
    created: false,
    readRoles: [],
    writeRoles: [],
    defaults: () => ({ emailAddress: null }),
    deletable: true,
    auditName: 'Email',
  },
  {
    type: 'temporaryAccessPass',
    segment: 'temporaryAccessPassMethods',
    odataType: 'temporaryAccessPassAuthenticationMethod',
    created: true,
    readRoles: [],
    writeRoles: [],
    defaults: (m) => ({
      temporaryAccessPass: null,
      startDateTime: m.createdDateTime,
      lifetimeInMinutes: 60,
      isUsableOnce: false,
      isUsable: true,
      methodUsabilityReason: 'EnabledByPolicy',
    }),
    deletable: true,
    auditName: 'Temporary Access Pass',
  },
  {
    type: 'windowsHelloForBusiness',
    segment: 'windowsHelloForBusinessMethods',
    odataType: 'windowsHelloForBusinessAuthenticationMethod',
    created: true,
    readRoles: [],
    writeRoles: [],
    defaults: () => ({ displayName: 'Windows device', keyStrength: 'normal' }),
    deletable: true,
    auditName: 'Windows Hello for Business',
  },
  {
    type: 'platformCredential',
    segment: 'platformCredentialMethods',
    odataType: 'platformCredentialAuthenticationMethod',
    created: true,
    readRoles: [],
    writeRoles: [],
    defaults: () => ({ displayName: 'Mac', keyStrength: 'normal', platform: 'macOS' }),
    deletable: true,
    auditName: 'Platform Credential',
  },
];

const READ_ROLES = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
const WRITE_ROLES = ['UserAuthenticationMethod.ReadWrite.All'];
/** Secrets a scenario might carry by mistake: never served. */
const SECRET_PROPERTIES = ['password', 'temporaryAccessPass', 'secretKey'];

const typeOf = (t: SimAuthMethodType) => TYPES.find((x) => x.type === t)!;

export function methodJson(m: SimAuthMethod): RawRecord {
  const t = typeOf(m.type);
  const body: RawRecord = { '@odata.type': `#microsoft.graph.${t.odataType}`, id: m.id, ...t.defaults(m), ...m.properties };
  for (const secret of SECRET_PROPERTIES) if (secret in body) body[secret] = null;
  if (t.created) body.createdDateTime = m.createdDateTime;
  return body;
}

function userOf(env: GraphEnv, req: SimRequest, roles: string[]): { user: SimUser; token: ReturnType<typeof authorize> } {
  const token = authorize(env, req, 'directory', roles);
  const user = findUser(token.tenant, req.params.id);
  if (!user) throw userNotFound(env, req, req.params.id);
  return { user, token };
}

function methodNotFound(env: GraphEnv, req: SimRequest): Error {
  return graphError(env.ctx.clock, req, 404, 'itemNotFound', `The authentication method '${req.params.methodId}' was not found for the user.`);
}

function list(env: GraphEnv, req: SimRequest, t: MethodType | undefined): SimResponse {
  const { user } = userOf(env, req, [...READ_ROLES, ...(t?.readRoles ?? [])]);
  // A method of a type Graph does not have (a control-route typo) is not served rather than failing the list.
  const methods = (user.authMethods ?? []).filter((m) => (t ? m.type === t.type : TYPES.some((x) => x.type === m.type)));
  return listResponse(env.ctx.clock, req, methods.map(methodJson), {
    family: 'directory',
    orderable: [],
    // Graph promises no order; a stable one keeps paging deterministic.
    defaultOrder: { property: 'id', desc: false },
    top: { default: 100, max: 999, overflow: 'clamp' },
    context: `users('${user.id}')/authentication/${t?.segment ?? 'methods'}`,
  });
}

function get(env: GraphEnv, req: SimRequest, t: MethodType | undefined): SimResponse {
  const { user } = userOf(env, req, [...READ_ROLES, ...(t?.readRoles ?? [])]);
  const method = (user.authMethods ?? []).find((m) => m.id === req.params.methodId && (!t || m.type === t.type));
  if (!method) throw methodNotFound(env, req);
  const context = `${req.baseUrl}/v1.0/$metadata#users('${user.id}')/authentication/${t?.segment ?? 'methods'}/$entity`;
  return { status: 200, headers: { 'content-type': 'application/json' }, body: { '@odata.context': context, ...methodJson(method) } };
}

function remove(env: GraphEnv, req: SimRequest, t: MethodType): SimResponse {
  const { user, token } = userOf(env, req, [...WRITE_ROLES, ...t.writeRoles]);
  throttle(env, req, token, 'directoryWrites');
  const methods = user.authMethods ?? [];
  const method = methods.find((m) => m.id === req.params.methodId && m.type === t.type);
  if (!method) throw methodNotFound(env, req);
  const others = methods.filter((m) => m !== method && m.type !== 'password');
  if (user.defaultAuthMethodId === method.id && others.length > 0) {
    throw graphError(
      env.ctx.clock,
      req,
      400,
      'badRequest',
      'Cannot delete default method with other methods configured. Please change default method before deletion.',
    );
  }
  const phoneType = method.properties?.phoneType;
  if (method.type === 'phone' && phoneType === 'mobile' && methods.some((m) => m.type === 'phone' && m.properties?.phoneType === 'alternateMobile')) {
    throw graphError(
      env.ctx.clock,
      req,
      400,
      'badRequest',
      'A user cannot have an alternateMobile phone without a mobile phone. Delete the alternateMobile phone first.',
    );
  }
  user.authMethods = methods.filter((m) => m !== method);
  if (user.defaultAuthMethodId === method.id) delete user.defaultAuthMethodId;
  recordDirectoryAudit(env.ctx, token.tenant, token, {
    activity: 'Admin deleted security info',
    loggedByService: 'Authentication Methods',
    operationType: 'Delete',
    target: user,
    additionalDetails: [{ key: 'Method', value: t.auditName }],
  });
  return { status: 204 };
}

export function authMethodRoutes(env: GraphEnv): SimRoute[] {
  const base = '/v1.0/users/:id/authentication';
  const routes: SimRoute[] = [
    { host: 'graph', method: 'GET', pattern: `${base}/methods`, handler: (req) => list(env, req, undefined) },
    { host: 'graph', method: 'GET', pattern: `${base}/methods/:methodId`, handler: (req) => get(env, req, undefined) },
  ];
  for (const t of TYPES) {
    routes.push(
      { host: 'graph', method: 'GET', pattern: `${base}/${t.segment}`, handler: (req) => list(env, req, t) },
      { host: 'graph', method: 'GET', pattern: `${base}/${t.segment}/:methodId`, handler: (req) => get(env, req, t) },
    );
    if (t.deletable) routes.push({ host: 'graph', method: 'DELETE', pattern: `${base}/${t.segment}/:methodId`, handler: (req) => remove(env, req, t) });
  }
  return routes;
}
