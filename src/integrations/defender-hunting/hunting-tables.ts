/**
 * The Advanced Hunting tables Cordon collects, one stream each (microsoft-notes §10): which are on by
 * default (the endpoint and email tables are the big ones), the columns that identify a row, and where
 * the events store's normalized columns come from.
 */
export interface HuntingTable {
  name: string;
  /** Off by default: a tenant's volume of it can be large (README "Advanced Hunting" per table). */
  enabledByDefault: boolean;
  /** Columns whose values together identify a row: the dedupe key (microsoft-notes §10). */
  key: readonly string[];
  /** The events store's `workload`: the product that records the table. */
  workload: string;
  /** Columns tried in order for the user, the device or object, and the address. */
  user: readonly string[];
  object: readonly string[];
  ip: readonly string[];
}

const DEVICE = {
  workload: 'DefenderForEndpoint',
  object: ['DeviceName', 'DeviceId'],
  enabledByDefault: false,
  key: ['ReportId', 'DeviceId', 'Timestamp'],
} as const;

export const HUNTING_TABLES: readonly HuntingTable[] = [
  { ...DEVICE, name: 'DeviceProcessEvents', user: ['AccountUpn', 'InitiatingProcessAccountUpn', 'AccountName'], ip: [] },
  { ...DEVICE, name: 'DeviceNetworkEvents', user: ['InitiatingProcessAccountUpn'], ip: ['RemoteIP', 'LocalIP'] },
  { ...DEVICE, name: 'DeviceFileEvents', user: ['InitiatingProcessAccountUpn', 'RequestAccountName'], ip: [] },
  { ...DEVICE, name: 'DeviceLogonEvents', user: ['AccountUpn', 'AccountName'], ip: ['RemoteIP'] },
  {
    name: 'EmailEvents',
    enabledByDefault: false,
    key: ['NetworkMessageId', 'RecipientEmailAddress'],
    workload: 'DefenderForOffice365',
    user: ['RecipientEmailAddress'],
    object: ['NetworkMessageId'],
    ip: ['SenderIPv4'],
  },
  {
    name: 'EmailAttachmentInfo',
    enabledByDefault: false,
    key: ['NetworkMessageId', 'RecipientEmailAddress', 'SHA256'],
    workload: 'DefenderForOffice365',
    user: ['RecipientEmailAddress'],
    object: ['FileName'],
    ip: [],
  },
  {
    name: 'UrlClickEvents',
    enabledByDefault: false,
    key: ['ReportId', 'Timestamp'],
    workload: 'DefenderForOffice365',
    user: ['AccountUpn'],
    object: ['Url'],
    ip: ['IPAddress'],
  },
  {
    name: 'IdentityLogonEvents',
    enabledByDefault: true,
    key: ['ReportId', 'Timestamp'],
    workload: 'DefenderForIdentity',
    user: ['AccountUpn', 'AccountName'],
    object: ['DeviceName', 'Application'],
    ip: ['IPAddress'],
  },
  {
    name: 'IdentityDirectoryEvents',
    enabledByDefault: false,
    key: ['ReportId', 'Timestamp'],
    workload: 'DefenderForIdentity',
    user: ['TargetAccountUpn', 'AccountUpn', 'AccountName'],
    object: ['TargetAccountUpn', 'DeviceName'],
    ip: ['IPAddress'],
  },
  {
    name: 'CloudAppEvents',
    enabledByDefault: false,
    key: ['ReportId', 'Timestamp'],
    workload: 'DefenderForCloudApps',
    user: ['AccountId', 'AccountObjectId', 'AccountDisplayName'],
    object: ['ObjectName'],
    ip: ['IPAddress'],
  },
  {
    name: 'AlertEvidence',
    enabledByDefault: true,
    // One row per entity of an alert: the alert, the kind of entity and whatever names it.
    key: ['AlertId', 'EntityType', 'Timestamp', 'AccountObjectId', 'DeviceId', 'SHA256', 'RemoteIP', 'RemoteUrl', 'FileName'],
    workload: 'DefenderXDR',
    user: ['AccountUpn', 'AccountName'],
    object: ['AlertId'],
    ip: ['RemoteIP', 'LocalIP'],
  },
];
