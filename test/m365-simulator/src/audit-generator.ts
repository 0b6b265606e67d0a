import { guidFromRand, pick, prng } from './ids';
import { contentTypeOfRecord, formatCreationTime, type ContentType } from './manage-options';
import type { RawRecord } from './types';

/**
 * Deterministic Management Activity API records generated on demand from (seed, index): nothing is
 * stored per record, so a million records cost only the blob index (a few MB). Record shapes follow
 * the common schema (microsoft-notes §2.3) with per-workload fields, and include the quirks of M7: CreationTime
 * without `Z`, ClientIP with a port / IPv6 in brackets / null, ResultStatus vocabulary per workload,
 * and an unknown future RecordType.
 */

export interface GeneratorConfig {
  seed: number;
  count: number;
  tenantId: string;
  /** Records are spread over [anchorMs - spanMs, anchorMs). */
  anchorMs: number;
  spanMs: number;
  /** UPNs of the tenant's users (actors). */
  users: string[];
  /** The tenant's default domain. */
  domain: string;
}

interface Kind {
  weight: number;
  build: (g: Draw) => RawRecord;
}

interface Draw {
  rand: () => number;
  user: string;
  ip: () => string | null;
  tenantId: string;
  domain: string;
}

const APPS = [
  ['00000002-0000-0ff1-ce00-000000000000', 'Office 365 Exchange Online'],
  ['00000003-0000-0ff1-ce00-000000000000', 'Office 365 SharePoint Online'],
  ['1fec8e78-bce4-4aaf-ab1b-5451cc387264', 'Microsoft Teams'],
  ['89bee1f7-5e6e-4d8a-9f3d-ecd601259da7', 'Office365 Shell WCSS-Client'],
] as const;
const FILES = ['Q3 forecast.xlsx', 'Board minutes.docx', 'salaries-2025.xlsx', 'roadmap.pptx', 'vpn-config.txt', 'customer-list.csv'];
const AGENTS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0', 'Microsoft Office/16.0', 'python-requests/2.31'];

const KINDS: Kind[] = [
  {
    weight: 22, // Entra STS logons
    build: ({ rand, user, ip, tenantId }) => {
      const failed = rand() < 0.15;
      const [appId] = pick(rand, APPS);
      return {
        RecordType: 15,
        Operation: failed ? 'UserLoginFailed' : 'UserLoggedIn',
        Workload: 'AzureActiveDirectory',
        ResultStatus: failed ? 'Failed' : 'Success',
        UserId: user,
        UserType: 0,
        ObjectId: appId,
        ApplicationId: appId,
        ClientIP: ip(),
        LogonError: failed ? pick(rand, ['InvalidUserNameOrPassword', 'UserAccountLocked', 'DeviceAuthenticationRequired']) : null,
        AzureActiveDirectoryEventType: 1,
        ExtendedProperties: [
          { Name: 'UserAgent', Value: pick(rand, AGENTS) },
          { Name: 'RequestType', Value: 'OAuth2:Token' },
        ],
        ActorContextId: tenantId,
        InterSystemsId: guidFromRand(rand),
      };
    },
  },
  {
    weight: 8, // Entra directory changes
    build: ({ rand, user }) => ({
      RecordType: 8,
      Operation: pick(rand, ['Update user.', 'Add member to role.', 'Reset user password.', 'Add service principal.', 'Consent to application.']),
      Workload: 'AzureActiveDirectory',
      ResultStatus: 'Success',
      UserId: user,
      UserType: pick(rand, [0, 2]),
      ObjectId: `user_${guidFromRand(rand)}`,
      ClientIP: '',
      AzureActiveDirectoryEventType: 1,
      Actor: [{ ID: user, Type: 5 }],
      Target: [{ ID: `User_${guidFromRand(rand)}`, Type: 2 }],
    }),
  },
  {
    weight: 16, // Exchange mailbox access
    build: ({ rand, user, ip }) => ({
      RecordType: pick(rand, [2, 50]),
      Operation: pick(rand, ['MailItemsAccessed', 'Send', 'HardDelete', 'MoveToDeletedItems', 'Update']),
      Workload: 'Exchange',
      ResultStatus: 'Succeeded',
      UserId: user,
      UserType: 0,
      ObjectId: user,
      MailboxOwnerUPN: user,
      ClientIPAddress: ip(),
      ClientIP: ip(),
      ClientInfoString: 'Client=OWA;Action=ViaProxy',
      LogonType: pick(rand, [0, 1]),
    }),
  },
  {
    weight: 6, // Exchange admin cmdlets (ResultStatus True/False, ClientIP with port)
    build: ({ rand, user }) => {
      const op = pick(rand, ['New-InboxRule', 'Set-Mailbox', 'Add-MailboxPermission', 'Set-InboxRule']);
      return {
        RecordType: 1,
        Operation: op,
        Workload: 'Exchange',
        ResultStatus: rand() < 0.9 ? 'True' : 'False',
        UserId: user,
        UserType: 2,
        UserKey: 'NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)',
        ObjectId: `${user}\\${op === 'New-InboxRule' ? 'Forward all' : 'Mailbox'}`,
        ClientIP: `203.0.113.${Math.floor(rand() * 250) + 1}:${Math.floor(rand() * 60000) + 1024}`,
        ExternalAccess: false,
        Parameters: op.endsWith('InboxRule')
          ? [
              { Name: 'ForwardTo', Value: 'archive@example.net' },
              { Name: 'StopProcessingRules', Value: 'True' },
            ]
          : [{ Name: 'Identity', Value: user }],
      };
    },
  },
  {
    weight: 18, // SharePoint / OneDrive file operations
    build: ({ rand, user, ip, domain }) => {
      const onedrive = rand() < 0.35;
      const file = pick(rand, FILES);
      const tenant = domain.split('.')[0];
      const site = onedrive ? `https://${tenant}-my.sharepoint.com/personal/${user.replace(/[@.]/g, '_')}/` : `https://${tenant}.sharepoint.com/sites/finance/`;
      return {
        RecordType: onedrive ? 7 : 6,
        Operation: pick(rand, ['FileAccessed', 'FileDownloaded', 'FileModified', 'FileUploaded', 'FileDeleted']),
        Workload: onedrive ? 'OneDrive' : 'SharePoint',
        UserId: user,
        UserType: 0,
        ClientIP: ip(),
        ObjectId: `${site}Shared Documents/${file}`,
        SiteUrl: site,
        SourceFileName: file,
        SourceFileExtension: file.split('.').pop(),
        SourceRelativeUrl: 'Shared Documents',
        ItemType: 'File',
        EventSource: 'SharePoint',
        UserAgent: pick(rand, AGENTS),
      };
    },
  },
  {
    weight: 5, // SharePoint sharing
    build: ({ rand, user, ip }) => ({
      RecordType: 14,
      Operation: pick(rand, ['SharingSet', 'AnonymousLinkCreated', 'SharingInvitationCreated']),
      Workload: 'SharePoint',
      UserId: user,
      UserType: 0,
      ClientIP: ip(),
      ObjectId: `https://contoso.sharepoint.com/sites/finance/Shared Documents/${pick(rand, FILES)}`,
      TargetUserOrGroupName: pick(rand, ['partner@fabrikam.example', 'Everyone except external users', 'Anonymous']),
      TargetUserOrGroupType: 'Guest',
    }),
  },
  {
    weight: 9, // Teams (Audit.General)
    build: ({ rand, user, ip }) => ({
      RecordType: 25,
      Operation: pick(rand, ['TeamCreated', 'MemberAdded', 'ChannelAdded', 'MessageSent', 'MeetingDetail']),
      Workload: 'MicrosoftTeams',
      UserId: user,
      UserType: 0,
      ClientIP: ip(),
      ObjectId: null,
      TeamName: pick(rand, ['Finance', 'IR War Room', 'All Company']),
      TeamGuid: `19:${guidFromRand(rand).replace(/-/g, '')}@thread.tacv2`,
    }),
  },
  {
    weight: 4, // Power BI (Audit.General)
    build: ({ rand, user, ip }) => ({
      RecordType: 20,
      Operation: pick(rand, ['ViewReport', 'ExportReport', 'ViewDashboard']),
      Workload: 'PowerBI',
      ResultStatus: 'Succeeded',
      UserId: user,
      UserType: 0,
      ClientIP: ip(),
      Activity: 'ViewReport',
      ItemName: 'Sales overview',
      IsSuccess: true,
    }),
  },
  {
    weight: 4, // DLP (DLP.All)
    build: ({ rand, user, ip }) => {
      const exchange = rand() < 0.5;
      return {
        RecordType: exchange ? 13 : 11,
        Operation: 'DLPRuleMatch',
        Workload: exchange ? 'Exchange' : 'SharePoint',
        UserId: user,
        UserType: 0,
        ClientIP: ip(),
        ObjectId: exchange ? `<${guidFromRand(rand)}@mail.example>` : `https://contoso.sharepoint.com/sites/finance/Shared Documents/${pick(rand, FILES)}`,
        IncidentId: guidFromRand(rand),
        SensitiveInfoDetectionIsIncluded: true,
        PolicyDetails: [
          { PolicyId: guidFromRand(rand), PolicyName: 'PCI DSS', Rules: [{ RuleName: 'Credit card numbers', Severity: 'High', Actions: ['NotifyUser'] }] },
        ],
      };
    },
  },
  {
    weight: 2, // Security & Compliance alerts / threat intelligence (Audit.General)
    build: ({ rand, user }) => {
      const alert = rand() < 0.5;
      return alert
        ? {
            RecordType: 40,
            Operation: 'AlertTriggered',
            Workload: 'SecurityComplianceCenter',
            ResultStatus: 'Succeeded',
            UserId: 'SecurityComplianceAlerts',
            UserType: 4,
            ObjectId: guidFromRand(rand),
            ClientIP: null,
            Severity: pick(rand, ['Low', 'Medium', 'High']),
            Name: 'Suspicious email forwarding activity',
          }
        : {
            RecordType: 28,
            Operation: 'TIMailData',
            Workload: 'ThreatIntelligence',
            UserId: 'ThreatIntel',
            UserType: 4,
            ObjectId: guidFromRand(rand),
            Recipients: [user],
            Verdict: pick(rand, ['Phish', 'Malware', 'Spam']),
            P1Sender: 'billing@evil.example',
          };
    },
  },
  {
    weight: 1, // a record type Cordon has never seen (keep enums open)
    build: ({ rand, user }) => ({
      RecordType: 9999,
      Operation: 'CopilotInteraction2',
      Workload: 'FutureWorkload',
      ResultStatus: 'succeeded',
      UserId: user,
      UserType: 0,
      ClientIP: `[2001:db8::${Math.floor(rand() * 0xffff).toString(16)}]:443`,
    }),
  },
];
const TOTAL_WEIGHT = KINDS.reduce((n, k) => n + k.weight, 0);

/** Integer mix of (seed, index) into a PRNG seed. */
function mix(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function kindIndex(r: number): number {
  let x = r * TOTAL_WEIGHT;
  for (let k = 0; k < KINDS.length; k++) {
    x -= KINDS[k].weight;
    if (x < 0) return k;
  }
  return KINDS.length - 1;
}

export class AuditGenerator {
  /** Content type per kind, computed once from a sample record of each kind. */
  private readonly kindTypes: ContentType[];

  constructor(readonly config: GeneratorConfig) {
    this.kindTypes = KINDS.map((k) => contentTypeOfRecord(k.build(this.draw(prng(1)))));
    // DLP kinds map by RecordType regardless of Workload, so the sample is representative.
  }

  private draw(rand: () => number): Draw {
    const users = this.config.users.length ? this.config.users : [`user@${this.config.domain}`];
    return {
      rand,
      user: pick(rand, users),
      tenantId: this.config.tenantId,
      domain: this.config.domain,
      ip: () => {
        const r = rand();
        if (r < 0.04) return null;
        if (r < 0.12) return `2001:db8:${Math.floor(rand() * 0xffff).toString(16)}::${Math.floor(rand() * 0xffff).toString(16)}`;
        if (r < 0.18) return `198.51.100.${Math.floor(rand() * 250) + 1}:${Math.floor(rand() * 60000) + 1024}`;
        return `203.0.113.${Math.floor(rand() * 250) + 1}`;
      },
    };
  }

  /** Cheap metadata for indexing: when the record happened and where it goes. */
  meta(i: number): { creationMs: number; contentType: ContentType } {
    const rand = prng(mix(this.config.seed, i));
    const k = kindIndex(rand());
    const { anchorMs, spanMs, count } = this.config;
    const creationMs = Math.floor(anchorMs - spanMs + ((i + rand()) / count) * spanMs);
    return { creationMs: Math.floor(creationMs / 1000) * 1000, contentType: this.kindTypes[k] };
  }

  record(i: number): RawRecord {
    const rand = prng(mix(this.config.seed, i));
    const k = kindIndex(rand());
    const { anchorMs, spanMs, count, tenantId } = this.config;
    const creationMs = Math.floor((anchorMs - spanMs + ((i + rand()) / count) * spanMs) / 1000) * 1000;
    const body = KINDS[k].build(this.draw(rand));
    return {
      CreationTime: formatCreationTime(creationMs),
      Id: guidFromRand(prng(mix(this.config.seed ^ 0x5bd1e995, i))),
      OrganizationId: tenantId,
      UserKey: String(body.UserKey ?? `1003200${(mix(7, i) % 100000000).toString().padStart(8, '0')}`),
      Version: 1,
      ...body,
    };
  }
}
