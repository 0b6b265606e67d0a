/**
 * Advanced Hunting tables of the simulator (microsoft-notes §10): rows generated on demand from
 * (seed, table, hour, index), as audit-generator.ts does for audit records, so a month of telemetry
 * costs nothing until a query reads it. Rows name the tenant's own users and devices, and
 * AlertEvidence is derived from the tenant's alerts, so hunting agrees with alerts_v2 and the
 * machine list. A row becomes visible once its ingestion delay has passed; a share of rows arrives
 * late (microsoft-notes M40), which is what a collector's overlap is for.
 */
import { createHash } from 'node:crypto';
import { guidFromRand, hash32, pick, prng } from '../ids';
import type { RawRecord, SimDevice, SimTenant, SimUser } from '../types';

export type ColumnType = 'DateTime' | 'String' | 'Int32' | 'Int64' | 'Boolean' | 'Object';
export type Schema = Array<{ name: string; type: ColumnType }>;

/** A generated row: its time in 100 ns ticks since the epoch (KQL's datetime precision) and its columns. */
export interface HuntingRow {
  ticks: number;
  record: RawRecord;
}

export interface HuntingDataOptions {
  seed: number;
  /** Rows per hour per table (AlertEvidence comes from the tenant's alerts). */
  rowsPerHour: Record<string, number>;
  /** Data exists from this instant on (ms). */
  historyStartMs: number;
  /** Share of rows that arrive late, and how late at most (ms). */
  lateFraction: number;
  lateMs: number;
}

export const HOUR_MS = 3_600_000;
export const TICKS_PER_MS = 10_000;

/** Default volumes, rows per hour for the whole tenant: endpoint tables dwarf the others, as in real tenants. */
export const DEFAULT_ROWS_PER_HOUR: Record<string, number> = {
  DeviceProcessEvents: 60,
  DeviceNetworkEvents: 80,
  DeviceFileEvents: 40,
  DeviceLogonEvents: 10,
  EmailEvents: 20,
  EmailAttachmentInfo: 6,
  UrlClickEvents: 4,
  IdentityLogonEvents: 12,
  IdentityDirectoryEvents: 2,
  CloudAppEvents: 30,
};

const S = (...names: string[]) => names.map((name) => ({ name, type: 'String' as const }));
const T = [{ name: 'Timestamp', type: 'DateTime' as const }];
const I64 = (name: string) => ({ name, type: 'Int64' as const });
const I32 = (name: string) => ({ name, type: 'Int32' as const });
const BOOL = (name: string) => ({ name, type: 'Boolean' as const });
const OBJ = (name: string) => ({ name, type: 'Object' as const });

/** Columns per table: a subset of Microsoft's advanced hunting schema, with its names and types. */
export const HUNTING_SCHEMAS: Record<string, Schema> = {
  DeviceProcessEvents: [
    ...T,
    ...S(
      'DeviceId',
      'DeviceName',
      'ActionType',
      'FileName',
      'FolderPath',
      'SHA256',
      'ProcessCommandLine',
      'AccountDomain',
      'AccountName',
      'AccountUpn',
      'AccountObjectId',
      'InitiatingProcessFileName',
      'InitiatingProcessCommandLine',
    ),
    I64('ProcessId'),
    I64('ReportId'),
  ],
  DeviceNetworkEvents: [
    ...T,
    ...S('DeviceId', 'DeviceName', 'ActionType', 'RemoteIP', 'RemoteUrl', 'LocalIP', 'Protocol', 'InitiatingProcessFileName', 'InitiatingProcessAccountUpn'),
    I32('RemotePort'),
    I32('LocalPort'),
    I64('ReportId'),
  ],
  DeviceFileEvents: [
    ...T,
    ...S('DeviceId', 'DeviceName', 'ActionType', 'FileName', 'FolderPath', 'SHA256', 'InitiatingProcessFileName', 'InitiatingProcessAccountUpn'),
    I64('FileSize'),
    I64('ReportId'),
  ],
  DeviceLogonEvents: [
    ...T,
    ...S('DeviceId', 'DeviceName', 'ActionType', 'LogonType', 'AccountDomain', 'AccountName', 'AccountSid', 'RemoteIP', 'FailureReason'),
    I64('ReportId'),
  ],
  EmailEvents: [
    ...T,
    ...S(
      'NetworkMessageId',
      'InternetMessageId',
      'SenderFromAddress',
      'SenderIPv4',
      'RecipientEmailAddress',
      'RecipientObjectId',
      'Subject',
      'EmailDirection',
      'DeliveryAction',
      'DeliveryLocation',
      'ThreatTypes',
    ),
    I32('AttachmentCount'),
    I32('UrlCount'),
    ...S('ReportId'),
  ],
  EmailAttachmentInfo: [
    ...T,
    ...S('NetworkMessageId', 'SenderFromAddress', 'RecipientEmailAddress', 'RecipientObjectId', 'FileName', 'FileType', 'SHA256', 'ThreatTypes'),
    I64('FileSize'),
    ...S('ReportId'),
  ],
  UrlClickEvents: [
    ...T,
    ...S('Url', 'ActionType', 'AccountUpn', 'Workload', 'NetworkMessageId', 'ThreatTypes', 'IPAddress'),
    BOOL('IsClickedThrough'),
    ...S('ReportId'),
  ],
  IdentityLogonEvents: [
    ...T,
    ...S(
      'ActionType',
      'Application',
      'LogonType',
      'Protocol',
      'AccountName',
      'AccountDomain',
      'AccountUpn',
      'AccountObjectId',
      'AccountDisplayName',
      'DeviceName',
      'IPAddress',
      'Location',
      'FailureReason',
      'ReportId',
    ),
  ],
  IdentityDirectoryEvents: [
    ...T,
    ...S(
      'ActionType',
      'Application',
      'TargetAccountUpn',
      'TargetAccountDisplayName',
      'AccountName',
      'AccountUpn',
      'AccountObjectId',
      'DeviceName',
      'IPAddress',
    ),
    OBJ('AdditionalFields'),
    ...S('ReportId'),
  ],
  CloudAppEvents: [
    ...T,
    ...S('ActionType', 'Application'),
    I32('ApplicationId'),
    ...S('AccountObjectId', 'AccountDisplayName', 'AccountId', 'IPAddress', 'CountryCode', 'ObjectName', 'ObjectType', 'UserAgent', 'ActivityType'),
    OBJ('RawEventData'),
    ...S('ReportId'),
  ],
  AlertEvidence: [
    ...T,
    ...S(
      'AlertId',
      'Title',
      'Categories',
      'AttackTechniques',
      'ServiceSource',
      'DetectionSource',
      'EntityType',
      'EvidenceRole',
      'AccountName',
      'AccountDomain',
      'AccountObjectId',
      'AccountUpn',
      'DeviceId',
      'DeviceName',
      'LocalIP',
      'RemoteIP',
      'FileName',
      'SHA256',
      'Severity',
    ),
    OBJ('AdditionalFields'),
  ],
};

export const HUNTING_TABLES = Object.keys(HUNTING_SCHEMAS);

/** Graph's serviceSource as AlertEvidence spells it. */
const SERVICE_SOURCES: Record<string, string> = {
  microsoftDefenderForEndpoint: 'Microsoft Defender for Endpoint',
  microsoftDefenderForIdentity: 'Microsoft Defender for Identity',
  microsoftDefenderForOffice365: 'Microsoft Defender for Office 365',
  microsoftDefenderForCloudApps: 'Microsoft Defender for Cloud Apps',
  azureAdIdentityProtection: 'AAD Identity Protection',
  microsoft365Defender: 'Microsoft Defender XDR',
  dataLossPrevention: 'Microsoft Data Loss Prevention',
};

const PROCESSES = ['powershell.exe', 'cmd.exe', 'chrome.exe', 'msedge.exe', 'OUTLOOK.EXE', 'rundll32.exe', 'svchost.exe', 'teams.exe'];
const FILES = ['invoice.pdf', 'Q3 forecast.xlsx', 'setup.exe', 'payload.dll', 'notes.txt', 'salaries-2025.xlsx'];
const URLS = ['login.microsoftonline.com', 'contoso.sharepoint.com', 'update.example.net', 'cdn.example.org', 'evil.example'];
const SUBJECTS = ['Invoice overdue', 'Team lunch', 'Password expiry notice', 'Q3 numbers', 'Shared document'];

interface Draw {
  rand: () => number;
  user: SimUser;
  device: SimDevice | undefined;
  domain: string;
  ip: () => string;
}

/** Integer mix of several ints into a PRNG seed. */
function mix(...parts: number[]): number {
  let h = 0x9e3779b1;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

const sha256 = (rand: () => number) => createHash('sha256').update(String(rand())).digest('hex');
const reportId = (rand: () => number) => Math.floor(rand() * 2 ** 40);
const messageId = (rand: () => number) => guidFromRand(rand);

function account(user: SimUser) {
  const [name, domain] = user.userPrincipalName.split('@');
  return { AccountName: name, AccountDomain: domain, AccountUpn: user.userPrincipalName, AccountObjectId: user.id };
}

function device(d: SimDevice | undefined) {
  return { DeviceId: d?.id ?? '', DeviceName: d?.computerDnsName ?? '' };
}

/** One row builder per generated table (the row's Timestamp is added by the caller). */
const BUILDERS: Record<string, (g: Draw) => RawRecord> = {
  DeviceProcessEvents: ({ rand, user, device: d }) => {
    const file = pick(rand, PROCESSES);
    const parent = pick(rand, PROCESSES);
    const acct = account(user);
    return {
      ...device(d),
      ActionType: 'ProcessCreated',
      FileName: file,
      FolderPath: `C:\\Windows\\System32\\${file}`,
      SHA256: sha256(rand),
      ProcessCommandLine: file === 'powershell.exe' ? 'powershell.exe -NoProfile -EncodedCommand SQBFAFgA' : file,
      AccountDomain: acct.AccountDomain.split('.')[0].toUpperCase(),
      AccountName: acct.AccountName,
      AccountUpn: acct.AccountUpn,
      AccountObjectId: acct.AccountObjectId,
      InitiatingProcessFileName: parent,
      InitiatingProcessCommandLine: parent,
      ProcessId: Math.floor(rand() * 30000) + 4,
      ReportId: reportId(rand),
    };
  },
  DeviceNetworkEvents: ({ rand, user, device: d, ip }) => ({
    ...device(d),
    ActionType: pick(rand, ['ConnectionSuccess', 'ConnectionSuccess', 'ConnectionFailed', 'InboundConnectionAccepted']),
    RemoteIP: ip(),
    RemoteUrl: pick(rand, URLS),
    LocalIP: d?.lastIpAddress ?? '10.0.0.1',
    Protocol: pick(rand, ['Tcp', 'Udp']),
    InitiatingProcessFileName: pick(rand, PROCESSES),
    InitiatingProcessAccountUpn: user.userPrincipalName,
    RemotePort: pick(rand, [443, 80, 445, 3389, 53]),
    LocalPort: Math.floor(rand() * 40000) + 1024,
    ReportId: reportId(rand),
  }),
  DeviceFileEvents: ({ rand, user, device: d }) => {
    const file = pick(rand, FILES);
    return {
      ...device(d),
      ActionType: pick(rand, ['FileCreated', 'FileModified', 'FileDeleted', 'FileRenamed']),
      FileName: file,
      FolderPath: `C:\\Users\\${user.userPrincipalName.split('@')[0]}\\Downloads\\${file}`,
      SHA256: sha256(rand),
      InitiatingProcessFileName: pick(rand, PROCESSES),
      InitiatingProcessAccountUpn: user.userPrincipalName,
      FileSize: Math.floor(rand() * 5_000_000),
      ReportId: reportId(rand),
    };
  },
  DeviceLogonEvents: ({ rand, user, device: d, ip }) => {
    const failed = rand() < 0.2;
    return {
      ...device(d),
      ActionType: failed ? 'LogonFailed' : 'LogonSuccess',
      LogonType: pick(rand, ['Interactive', 'RemoteInteractive', 'Network', 'Unlock']),
      AccountDomain: user.userPrincipalName.split('@')[1].split('.')[0].toUpperCase(),
      AccountName: user.userPrincipalName.split('@')[0],
      AccountSid: `S-1-12-1-${hash32(user.id)}-${hash32(user.userPrincipalName)}`,
      RemoteIP: ip(),
      FailureReason: failed ? 'InvalidUserNameOrPassword' : '',
      ReportId: reportId(rand),
    };
  },
  EmailEvents: ({ rand, user, ip }) => {
    const threat = rand() < 0.1 ? pick(rand, ['Phish', 'Malware', 'Spam']) : '';
    return {
      NetworkMessageId: messageId(rand),
      InternetMessageId: `<${guidFromRand(rand)}@mail.example>`,
      SenderFromAddress: pick(rand, ['billing@fabrikam.example', 'news@example.org', 'ceo@evil.example']),
      SenderIPv4: ip(),
      RecipientEmailAddress: user.mail ?? user.userPrincipalName,
      RecipientObjectId: user.id,
      Subject: pick(rand, SUBJECTS),
      EmailDirection: 'Inbound',
      DeliveryAction: threat ? 'Blocked' : 'Delivered',
      DeliveryLocation: threat ? 'Quarantine' : 'Inbox/folder',
      ThreatTypes: threat,
      AttachmentCount: Math.floor(rand() * 3),
      UrlCount: Math.floor(rand() * 4),
      ReportId: guidFromRand(rand),
    };
  },
  EmailAttachmentInfo: ({ rand, user }) => {
    const file = pick(rand, FILES);
    return {
      NetworkMessageId: messageId(rand),
      SenderFromAddress: pick(rand, ['billing@fabrikam.example', 'ceo@evil.example']),
      RecipientEmailAddress: user.mail ?? user.userPrincipalName,
      RecipientObjectId: user.id,
      FileName: file,
      FileType: file.split('.').pop(),
      SHA256: sha256(rand),
      ThreatTypes: rand() < 0.1 ? 'Malware' : '',
      FileSize: Math.floor(rand() * 2_000_000),
      ReportId: guidFromRand(rand),
    };
  },
  UrlClickEvents: ({ rand, user, ip }) => {
    const blocked = rand() < 0.2;
    return {
      Url: `https://${pick(rand, URLS)}/${guidFromRand(rand).slice(0, 8)}`,
      ActionType: blocked ? 'ClickBlocked' : 'ClickAllowed',
      AccountUpn: user.userPrincipalName,
      Workload: pick(rand, ['Email', 'Teams', 'Office']),
      NetworkMessageId: messageId(rand),
      ThreatTypes: blocked ? 'Phish' : '',
      IPAddress: ip(),
      IsClickedThrough: !blocked && rand() < 0.5,
      ReportId: guidFromRand(rand),
    };
  },
  IdentityLogonEvents: ({ rand, user, device: d, ip }) => {
    const failed = rand() < 0.15;
    const cloud = rand() < 0.6;
    return {
      ActionType: failed ? 'LogonFailed' : 'LogonSuccess',
      Application: cloud ? 'Microsoft 365' : 'Active Directory',
      LogonType: cloud ? 'Login to a cloud app' : 'Credentials validation',
      Protocol: cloud ? '' : pick(rand, ['Kerberos', 'Ntlm', 'Ldap']),
      ...account(user),
      AccountDisplayName: user.displayName,
      DeviceName: d?.computerDnsName ?? '',
      IPAddress: ip(),
      Location: pick(rand, ['US', 'US', 'GB', 'NG']),
      FailureReason: failed ? 'WrongPassword' : '',
      ReportId: guidFromRand(rand),
    };
  },
  IdentityDirectoryEvents: ({ rand, user, device: d, ip }) => {
    const action = pick(rand, ['Account Password changed', 'Group Membership changed', 'Account Enabled changed', 'User Account created']);
    return {
      ActionType: action,
      Application: 'Active Directory',
      TargetAccountUpn: user.userPrincipalName,
      TargetAccountDisplayName: user.displayName,
      AccountName: 'adm-helpdesk',
      AccountUpn: '',
      AccountObjectId: '',
      DeviceName: d?.computerDnsName ?? '',
      IPAddress: ip(),
      AdditionalFields: action === 'Group Membership changed' ? { 'TO.GROUP': 'Finance', 'FROM.GROUP': '' } : {},
      ReportId: guidFromRand(rand),
    };
  },
  CloudAppEvents: ({ rand, user, ip }) => {
    const [app, appId, actions, type] = pick(rand, [
      ['Microsoft SharePoint Online', 20892, ['FileDownloaded', 'FileAccessed', 'FileUploaded'], 'File'],
      ['Microsoft Exchange Online', 20893, ['MailItemsAccessed', 'New-InboxRule', 'Send'], 'Mailbox'],
      ['Microsoft Teams', 28711, ['MessageSent', 'MemberAdded'], 'Team'],
    ] as const);
    const action = pick(rand, actions);
    return {
      ActionType: action,
      Application: app,
      ApplicationId: appId,
      AccountObjectId: user.id,
      AccountDisplayName: user.displayName,
      AccountId: user.id,
      IPAddress: ip(),
      CountryCode: pick(rand, ['US', 'US', 'GB', 'NG']),
      ObjectName: type === 'File' ? pick(rand, FILES) : user.userPrincipalName,
      ObjectType: type,
      UserAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0',
      ActivityType: 'Basic',
      RawEventData: { Operation: action, UserId: user.userPrincipalName, Workload: app },
      ReportId: guidFromRand(rand),
    };
  },
};

/** `2025-03-04T10:11:12.1234567Z`: KQL datetimes carry seven fractional digits. */
export function formatTicks(ticks: number): string {
  const ms = Math.floor(ticks / TICKS_PER_MS);
  const extra = String(ticks % TICKS_PER_MS).padStart(4, '0');
  return new Date(ms).toISOString().replace(/Z$/, `${extra}Z`);
}

export class HuntingData {
  constructor(
    private readonly tenant: SimTenant,
    private readonly options: HuntingDataOptions,
  ) {}

  /** Rows per hour of a table, 0 when it has nothing to say (no devices for the endpoint tables). */
  private rate(table: string): number {
    if (table.startsWith('Device') && this.tenant.devices.length === 0) return 0;
    return this.options.rowsPerHour[table] ?? DEFAULT_ROWS_PER_HOUR[table] ?? 0;
  }

  /** The rows of a table with a Timestamp in [fromMs, toMs) that have arrived by `nowMs`, oldest first. */
  rows(table: string, fromMs: number, toMs: number, nowMs: number): HuntingRow[] {
    const from = Math.max(fromMs, this.options.historyStartMs);
    const to = Math.min(toMs, nowMs);
    if (to <= from) return [];
    if (table === 'AlertEvidence') return this.alertEvidence(from, to, nowMs);
    const rate = this.rate(table);
    const build = BUILDERS[table];
    if (!rate || !build) return [];
    const out: HuntingRow[] = [];
    const tableHash = hash32(table);
    for (let hour = Math.floor(from / HOUR_MS); hour * HOUR_MS < to; hour++) {
      for (let i = 0; i < rate; i++) {
        const rand = prng(mix(this.options.seed, tableHash, hour, i));
        const ticks = (hour * HOUR_MS + Math.floor(rand() * HOUR_MS)) * TICKS_PER_MS + Math.floor(rand() * TICKS_PER_MS);
        const ms = Math.floor(ticks / TICKS_PER_MS);
        if (ms < from || ms >= to) continue;
        const late = rand() < this.options.lateFraction;
        const delayMs = late ? 5 * 60_000 + Math.floor(rand() * Math.max(0, this.options.lateMs - 5 * 60_000)) : 30_000 + Math.floor(rand() * 90_000);
        if (ms + delayMs > nowMs) continue;
        out.push({ ticks, record: { Timestamp: formatTicks(ticks), ...build(this.draw(rand)) } });
      }
    }
    return out.sort((a, b) => a.ticks - b.ticks);
  }

  private draw(rand: () => number): Draw {
    const members = this.tenant.users.filter((u) => u.userType !== 'Guest');
    const user = pick(rand, members.length ? members : this.tenant.users);
    return {
      rand,
      user: user ?? ({ id: '', userPrincipalName: `user@${this.tenant.domains[0]}`, displayName: 'User' } as SimUser),
      device: this.tenant.devices.length ? pick(rand, this.tenant.devices) : undefined,
      domain: this.tenant.domains[0],
      ip: () => (rand() < 0.1 ? `198.51.100.${Math.floor(rand() * 250) + 1}` : `203.0.113.${Math.floor(rand() * 250) + 1}`),
    };
  }

  /** One row per evidence item of each alert of the tenant, at the alert's creation (visible a few minutes later). */
  private alertEvidence(from: number, to: number, nowMs: number): HuntingRow[] {
    const out: HuntingRow[] = [];
    for (const alert of this.tenant.alerts) {
      const created = Date.parse(String(alert.createdDateTime ?? ''));
      if (!Number.isFinite(created) || created < from || created >= to || created + 5 * 60_000 > nowMs) continue;
      const evidence = Array.isArray(alert.evidence) ? (alert.evidence as RawRecord[]) : [];
      const common = {
        AlertId: alert.id,
        Title: alert.title ?? '',
        Categories: JSON.stringify([alert.category ?? '']),
        AttackTechniques: JSON.stringify(alert.mitreTechniques ?? []),
        ServiceSource: SERVICE_SOURCES[String(alert.serviceSource)] ?? String(alert.serviceSource ?? ''),
        DetectionSource: String(alert.detectionSource ?? ''),
        Severity: String(alert.severity ?? '').replace(/^./, (c) => c.toUpperCase()),
      };
      evidence.forEach((e, i) => {
        const ticks = created * TICKS_PER_MS + i;
        const account = (e.userAccount ?? {}) as RawRecord;
        const machine = String(e['@odata.type'] ?? '').endsWith('deviceEvidence');
        const user = String(e['@odata.type'] ?? '').endsWith('userEvidence');
        const known = this.tenant.devices.find((d) => d.id === e.mdeDeviceId);
        out.push({
          ticks,
          record: {
            Timestamp: formatTicks(ticks),
            ...common,
            EntityType: machine ? 'Machine' : user ? 'User' : 'Other',
            EvidenceRole: (e.roles as string[] | undefined)?.includes('compromised') ? 'Impacted' : 'Related',
            AccountName: String(account.accountName ?? ''),
            AccountDomain: String(account.domainName ?? ''),
            AccountObjectId: String(account.azureAdUserId ?? ''),
            AccountUpn: String(account.userPrincipalName ?? ''),
            DeviceId: String(e.mdeDeviceId ?? ''),
            DeviceName: String(e.deviceDnsName ?? ''),
            LocalIP: known?.lastIpAddress ?? '',
            RemoteIP: '',
            FileName: '',
            SHA256: '',
            AdditionalFields: { Role: e.roles, Verdict: e.verdict ?? null },
          },
        });
      });
    }
    return out.sort((a, b) => a.ticks - b.ticks);
  }
}
