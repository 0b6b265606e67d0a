/**
 * The simulator's internal contract: the shapes every emulated Microsoft surface (Entra ID, Graph,
 * Management Activity API, Defender for Endpoint) shares. Domain modules are plain functions that
 * return routes; the core server (server.ts) owns TLS, routing, fault injection and the journal.
 *
 * Change this file only additively: several modules are written against it.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The four Microsoft hosts Cordon talks to. Each is served on its own HTTPS port. */
export type SimHost = 'login' | 'graph' | 'manage' | 'defender';

export interface SimRequest {
  host: SimHost;
  method: string;
  /** Decoded path without the query string, e.g. `/v1.0/users/alice@contoso.com`. */
  path: string;
  /** The path exactly as sent (still percent-encoded); set by the core server. */
  rawPath?: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON for `application/json`, a string map for form bodies, otherwise undefined. */
  body: unknown;
  /** Route parameters from the matched pattern (`/v1.0/users/:id` ⇒ `{ id }`), URI-decoded. */
  params: Record<string, string>;
  remoteAddress: string;
  /** `https://localhost:<port>` of the host that received the request (for building nextLinks). */
  baseUrl: string;
  /** A request id the simulator minted (echoed as `request-id` / `client-request-id` where Microsoft does). */
  requestId: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers verbatim; undefined ⇒ empty body. */
  body?: unknown;
}

export type SimHandler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface SimRoute {
  host: SimHost;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Express-like pattern: `/v1.0/users/:id`, `/:tenant/oauth2/v2.0/token`. Matching is case-insensitive on literals. */
  pattern: string;
  handler: SimHandler;
}

/**
 * Thrown by handlers (or helpers such as `requireToken`) to answer with a given response.
 * The core server turns it into the response; anything else thrown becomes a 500.
 */
export class SimError extends Error {
  constructor(readonly response: SimResponse) {
    super(`simulated error ${response.status}`);
  }
}

/** Licences a tenant holds; they gate features the way Microsoft does. */
export interface TenantLicences {
  /** Entra ID P1 (sign-in logs). */
  entraP1: boolean;
  /** Entra ID P2 (Identity Protection: riskyUsers, riskDetections, confirmCompromised). */
  entraP2: boolean;
  /** Microsoft Defender for Endpoint (machines, machine actions). */
  defenderForEndpoint: boolean;
  /** Defender XDR / Microsoft 365 Defender (alerts_v2, incidents). */
  defenderXdr: boolean;
  /** Unified audit log ingestion is on (Management Activity API, Purview audit search). */
  unifiedAuditLog: boolean;
  /**
   * Microsoft Defender for Office 365 (analyzedEmails and their remediation); absent ⇒ licensed
   * (microsoft-notes M53).
   */
  defenderForOffice?: boolean;
}

export interface SimApp {
  clientId: string;
  displayName: string;
  /** Accepted client secrets. */
  clientSecrets: string[];
  /** PEM certificates registered on the app (client_assertion is verified against them). */
  certificates: string[];
  /** Application permissions granted per resource (they become the token's `roles`). */
  permissions: {
    graph: string[];
    manage: string[];
    defender: string[];
  };
  /** Directory roles held by the app's service principal (e.g. "Privileged Authentication Administrator"). */
  directoryRoles: string[];
  /**
   * The application permissions the app registration requests (its `requiredResourceAccess`): what an admin
   * grants through the admin-consent endpoint (default: everything Cordon needs; microsoft-notes M43).
   */
  requiredResourceAccess?: { graph?: string[]; manage?: string[]; defender?: string[] };
  /** Registered reply URLs; when set, an admin-consent `redirect_uri` outside them is refused (AADSTS50011). */
  replyUrls?: string[];
  /** What the (simulated) admin does on the consent page: grant (default) or decline. */
  consentOutcome?: 'grant' | 'decline';
  /** Secrets that exist but have expired (the token endpoint answers AADSTS7000222). */
  expiredClientSecrets?: string[];
  /**
   * When true, the core generates a certificate + private key at start, registers the certificate on
   * the app and reports both in `startSimulator(...).tenants[i].certificate`.
   */
  generateCertificate?: boolean;
}

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail?: string | null;
  accountEnabled: boolean;
  userType?: 'Member' | 'Guest';
  /** Directory roles the user holds; a user with any is "privileged" (microsoft-notes M13). */
  directoryRoles: string[];
  /** Group object ids the user is a member of. */
  memberOf: string[];
  signInSessionsValidFromDateTime: string;
  /** Set when the password is changed through PATCH passwordProfile. */
  lastPasswordChangeDateTime?: string;
  forceChangePasswordNextSignIn?: boolean;
  /** Identity Protection state of the user (riskyUsers). */
  riskLevel: 'none' | 'low' | 'medium' | 'high' | 'hidden';
  riskState: 'none' | 'confirmedSafe' | 'remediated' | 'dismissed' | 'atRisk' | 'confirmedCompromised';
  riskDetail?: string;
  riskLastUpdatedDateTime?: string;
  /** Whether the user has an Exchange Online mailbox (default: Members with a mail address). */
  mailboxEnabled?: boolean;
  /** Inbox rules (Graph `messageRules`); `hidden` ones exist in the mailbox but Graph never serves them. */
  inboxRules?: SimMessageRule[];
  /** Registered authentication methods; the password method is always there (scenario.ts adds it). */
  authMethods?: SimAuthMethod[];
  /** The user's default MFA method: it cannot be deleted while other methods remain (microsoft-notes M35). */
  defaultAuthMethodId?: string;
  /** Messages in the mailbox (graph/mail-messages.ts, microsoft-notes §15). */
  messages?: SimMailMessage[];
}

/** Mailbox folders the simulator models, by their Graph well-known names. */
export type SimMailFolder = 'inbox' | 'junkemail' | 'deleteditems' | 'recoverableitemsdeletions' | 'recoverableitemspurges';

/** One delivered copy of a message, in one recipient's mailbox (microsoft-notes §15). */
export interface SimMailMessage {
  /** The immutable id (served with `Prefer: IdType="ImmutableId"`): it survives moves between folders (microsoft-notes M55). */
  immutableId: string;
  /** The default REST id: a move gives the message a new one. */
  restId: string;
  /** RFC 2822 Message-ID, the same for every recipient of one send. */
  internetMessageId: string;
  /** Exchange Online's id for the message as it crossed the organisation, the same for every recipient. */
  networkMessageId: string;
  subject: string;
  /** The sender's address. */
  from: string;
  receivedDateTime: string;
  folder: SimMailFolder;
  /** Verdicts Defender for Office recorded (analyzedEmails `threatTypes`). */
  threatTypes?: string[];
}

/** A remediation submitted through `analyzedEmails/remediate`: an Action center entry (microsoft-notes M53). */
export interface SimEmailRemediation {
  /** The bulk id in the Location header's portal link. */
  bulkId: string;
  displayName: string;
  description: string;
  severity: string;
  action: string;
  remediateSendersCopy: boolean;
  analyzedEmails: Array<{ networkMessageId: string; recipientEmailAddress: string }>;
  submittedDateTime: string;
  /** Simulated time at which the mailboxes change. */
  applyAtMs: number;
  status: 'pending' | 'completed';
  /** Per pair, what happened once applied. */
  results?: Array<{ networkMessageId: string; recipientEmailAddress: string; outcome: 'remediated' | 'not-found' | 'already' }>;
}

/** An Outlook inbox rule as Graph's `messageRule` has it (microsoft-notes §9.1). */
export interface SimMessageRule {
  id: string;
  displayName: string;
  sequence: number;
  isEnabled: boolean;
  hasError?: boolean;
  isReadOnly?: boolean;
  conditions?: Record<string, unknown>;
  exceptions?: Record<string, unknown>;
  actions?: Record<string, unknown>;
  /** A hidden (MAPI) rule: it acts on mail but Graph neither lists it nor finds it by id (microsoft-notes M27). */
  hidden?: boolean;
}

/** The authentication method types Graph v1.0 serves under `/users/{id}/authentication/{type}Methods`. */
export type SimAuthMethodType =
  | 'password'
  | 'phone'
  | 'microsoftAuthenticator'
  | 'fido2'
  | 'softwareOath'
  | 'email'
  | 'temporaryAccessPass'
  | 'windowsHelloForBusiness'
  | 'platformCredential';

export interface SimAuthMethod {
  id: string;
  type: SimAuthMethodType;
  /** When it was registered. Graph serves it only for the types whose resource has `createdDateTime`. */
  createdDateTime: string;
  /** Type-specific properties served as given (`phoneNumber`, `phoneType`, `displayName`, `emailAddress`…). */
  properties?: Record<string, unknown>;
}

/** An enterprise application (service principal) in the tenant (microsoft-notes §9.2). */
export interface SimServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  publisherName: string | null;
  /** `null` ⇒ an unverified publisher (Graph then serves every field of verifiedPublisher as null). */
  verifiedPublisher: { displayName: string; verifiedPublisherId: string; addedDateTime: string } | null;
  /** The tenant that registered the app (a foreign tenant for multi-tenant apps). */
  appOwnerOrganizationId: string | null;
  servicePrincipalType: string;
  appRoles: Array<{ id: string; value: string | null; displayName: string }>;
}

/** A delegated permission grant (Graph `oAuth2PermissionGrant`). */
export interface SimPermissionGrant {
  id: string;
  /** Object id of the client service principal. */
  clientId: string;
  consentType: 'Principal' | 'AllPrincipals';
  /** The user, for `Principal` grants; null for `AllPrincipals`. */
  principalId: string | null;
  /** Object id of the resource service principal (Microsoft Graph's for Graph scopes). */
  resourceId: string;
  /** Space-separated scopes. */
  scope: string;
  /** When consent was given. Graph v1.0 does not serve it: the directory audit "Consent to application" has it. */
  grantedDateTime?: string;
}

/** An app role assigned to a user (Graph `appRoleAssignment`). */
export interface SimAppRoleAssignment {
  id: string;
  appRoleId: string;
  createdDateTime: string;
  principalId: string;
  principalDisplayName: string | null;
  principalType: 'User' | 'Group' | 'ServicePrincipal';
  resourceId: string;
  resourceDisplayName: string | null;
}

/** A security group. Membership lives on the user (`SimUser.memberOf`). */
export interface SimGroup {
  id: string;
  displayName: string;
  /** `["DynamicMembership"]` ⇒ members cannot be added or removed by hand. */
  groupTypes?: string[];
  /** A role-assignable group: changing members also needs RoleManagement.ReadWrite.Directory. */
  isAssignableToRole?: boolean;
}

export interface SimDevice {
  /** Defender machine id (40 hex chars). */
  id: string;
  computerDnsName: string;
  aadDeviceId: string | null;
  osPlatform: string;
  version?: string;
  healthStatus: string;
  riskScore?: string;
  exposureLevel?: string;
  lastSeen: string;
  firstSeen?: string;
  lastIpAddress?: string;
  lastExternalIpAddress?: string;
  /** Whether the device checks in: an offline device's actions stay Pending until TimeOut. */
  online: boolean;
  isolated: boolean;
  isolationType?: 'Full' | 'Selective';
  appExecutionRestricted: boolean;
  /** Extra raw fields served as given. */
  extra?: Record<string, unknown>;
}

/** A raw Microsoft object served as given (alerts, incidents, sign-ins, audits, records...). */
export type RawRecord = Record<string, unknown>;

export interface SimTenant {
  tenantId: string;
  displayName: string;
  /** Verified domains; the first is the default (`contoso.onmicrosoft.com`). */
  domains: string[];
  licences: TenantLicences;
  apps: SimApp[];
  users: SimUser[];
  groups: SimGroup[];
  devices: SimDevice[];
  /** Enterprise apps: Microsoft Graph's and the tenant's own apps' are added when not declared. */
  servicePrincipals: SimServicePrincipal[];
  oauth2PermissionGrants: SimPermissionGrant[];
  appRoleAssignments: SimAppRoleAssignment[];
  alerts: RawRecord[];
  incidents: RawRecord[];
  signIns: RawRecord[];
  directoryAudits: RawRecord[];
  riskDetections: RawRecord[];
  secureScores: RawRecord[];
  secureScoreControlProfiles: RawRecord[];
  /** Management Activity API audit records (each has CreationTime, Workload, RecordType, Id...). */
  auditRecords: RawRecord[];
  /** Remediations submitted through `analyzedEmails/remediate`, oldest first (graph/analyzed-emails.ts). */
  emailRemediations?: SimEmailRemediation[];
  /** Defender's limit of active custom indicators for this tenant (default 15,000; a test lowers it). */
  indicatorLimit?: number;
  /** SHA-1s of files Defender knows as signed by Microsoft: StopAndQuarantineFile refuses them (microsoft-notes M48). */
  microsoftSignedFiles?: string[];
  /** The tenant's live response library (scripts and files); default one script, collect-triage.ps1 (microsoft-notes M50). */
  liveResponseLibrary?: Array<{ name: string; output?: string; errors?: string; exitCode?: number }>;
}

/** A scenario file: what a test or demo declares. Missing fields take defaults (see scenario.ts). */
export interface Scenario {
  tenants: Array<Partial<SimTenant> & { tenantId: string }>;
  /** Token lifetime in seconds (default 3599). */
  tokenLifetimeSeconds?: number;
  /** Defender machine action progression, in simulated milliseconds. */
  machineActions?: { pendingMs?: number; inProgressMs?: number; timeoutMs?: number };
  /** Microsoft Graph behaviour knobs (defaults in graph/options.ts). */
  graph?: GraphScenarioOptions;
  /** Office 365 Management Activity API behaviour (defaults in manage-options.ts). */
  manage?: ManageOptions;
}

/** Knobs of the Management Activity API emulation. Every field is optional. */
export interface ManageOptions {
  /** Delay between a record's CreationTime and the time its blob becomes available (default 30 min). */
  latencyMs?: number;
  /** Records whose availability falls in the same bucket of this width share a blob (default 15 min). */
  blobWindowMs?: number;
  /** Blobs per /subscriptions/content page before a NextPageUri is sent (default 50). */
  pageSize?: number;
  /** How long a blob stays retrievable after contentCreated (default 7 days; microsoft-notes §2.7). */
  contentRetentionMs?: number;
  /** Every Nth blob (deterministically chosen) is listed again later under a new contentId (0 = off). */
  duplicateBlobEvery?: number;
  /** How much later a duplicate blob is listed (default 1 h). */
  duplicateDelayMs?: number;
  /** Share of records (0..1, chosen deterministically) delivered late, in a later blob (default 0). */
  lateRecordFraction?: number;
  /** Extra delay of late records (default 3 days, microsoft-notes §2.7: 3–5 days or more). */
  lateRecordDelayMs?: number;
  /** Error code for a bad time window: the documented AF20030 or the newer AF20055 (default AF20030). */
  windowErrorCode?: 'AF20030' | 'AF20055';
  /** Reject windows of exactly 24 h, as peers observed (default true; microsoft-notes §2.2). */
  rejectExactly24h?: boolean;
  /** Requests per minute per tenant when PublisherIdentifier is sent (default 2000; microsoft-notes §2.5). */
  throttlePerMinute?: number;
  /** Requests per minute of the one shared pool used by calls without PublisherIdentifier (default 300). */
  throttleSharedPerMinute?: number;
  /**
   * The length of the throttling window in simulated milliseconds (default 60,000: the documented per-minute
   * budgets). Tests shorten it so a budget refills in seconds; the budgets above then count per window.
   */
  throttleWindowMs?: number;
  /** Subscriptions that exist at start, per tenant id: contentType ⇒ status. */
  subscriptions?: Record<string, Record<string, 'enabled' | 'disabled'>>;
}

/** Tunable Graph behaviour; every field is optional and has a Microsoft-like default. */
export interface GraphScenarioOptions {
  /** Status of `POST /users/{id}/revokeSignInSessions`: 200 `{value:true}` (default) or 204 (microsoft-notes M15). */
  revokeSignInSessionsStatus?: 200 | 204;
  /** `incidents?$expand=alerts&$filter=…` answers a persistent 500 above this many incidents (microsoft-notes M9). */
  incidentsExpandFailureThreshold?: number;
  /** Purview audit search progression, in simulated milliseconds. */
  auditQuery?: { notStartedMs?: number; runningMs?: number };
  /** Advanced Hunting (`security/runHuntingQuery`, microsoft-notes §10); defaults in graph/hunting.ts. */
  hunting?: {
    /** Seed of the generated rows (default: a hash of the tenant id). */
    seed?: number;
    /** Rows per hour per table for the whole tenant (AlertEvidence comes from the tenant's alerts). */
    rowsPerHour?: Record<string, number>;
    /** Days of data before the simulator started (default 30). */
    historyDays?: number;
    /** Share of rows that arrive late (default 0.05), and how late at most in minutes (default 20). */
    lateFraction?: number;
    lateMinutes?: number;
    /** Rows a result holds at most (default 100,000). */
    maxRows?: number;
    /** Calls per minute per tenant (default 45; 0 = off). */
    callsPerMinute?: number;
    /** The tenant's CPU quota per 15-minute cycle, counted in rows scanned (default 5,000,000; 0 = off). */
    cpuRowsPer15Minutes?: number;
  };
  /** Throttling limits; 0 turns one off. */
  throttling?: {
    /** Identity Protection: requests per second per tenant, all apps combined (default 1). */
    identityProtectionPerSecond?: number;
    /** Reports (auditLogs/*): requests per 10 s per app per tenant (default 5). */
    reportsPer10Seconds?: number;
    /** Security (/security/*): requests per minute per app per tenant (default 150). */
    securityPerMinute?: number;
    /** Outlook (inbox rules): requests per 10 minutes per app and mailbox (default 10,000; microsoft-notes §8.10). */
    outlookPer10Minutes?: number;
    /** Identity and access writes (grants, apps, groups, methods): per 2.5 minutes per app and tenant (default 3,000). */
    directoryWritesPer150Seconds?: number;
    /** Outlook: requests one app may have in flight at once against one mailbox (default 4; microsoft-notes M56). */
    mailboxConcurrency?: number;
  };
  /** Mail remediation (microsoft-notes §15). */
  mail?: {
    /** Simulated ms between a 202 from `analyzedEmails/remediate` and the change in the mailboxes (default 10,000). */
    remediationDelayMs?: number;
    /** Real ms each mailbox message call takes, so that concurrent calls overlap (default 0). */
    latencyMs?: number;
  };
}

/** The simulated clock: real time plus an offset that `/_sim/clock/advance` moves forward. */
export interface SimClock {
  now(): Date;
  nowMs(): number;
  advance(ms: number): void;
}

/** What a verified access token carries. */
export interface VerifiedToken {
  tenant: SimTenant;
  /** The app, for app-only tokens; undefined for user (delegated) tokens. */
  app?: SimApp;
  /** `aud` claim. */
  audience: string;
  roles: string[];
  claims: Record<string, unknown>;
}

/** The services a domain module gets from the core. */
export interface SimContext {
  clock: SimClock;
  tenants: Map<string, SimTenant>;
  scenario: Scenario;
  /** Find a tenant by GUID or verified domain (case-insensitive). */
  findTenant(idOrDomain: string): SimTenant | undefined;
  /**
   * Verify the request's `Authorization: Bearer` token for a resource; throws SimError with the
   * Microsoft-shaped 401 when missing/invalid/expired/wrong audience (Defender answers 403 for a wrong
   * audience, microsoft-notes M16). When `anyOf` is given, one of those roles must be present, else 403 in the
   * resource's own error shape.
   */
  requireToken(req: SimRequest, resource: Exclude<SimHost, 'login'>, anyOf?: string[]): VerifiedToken;
  /** Base URLs of the four hosts (`https://localhost:<port>`), known once the servers listen. */
  baseUrls(): Record<SimHost, string>;
  /** Minted ids. */
  newGuid(): string;
}

export type SimModule = (ctx: SimContext) => SimRoute[];
