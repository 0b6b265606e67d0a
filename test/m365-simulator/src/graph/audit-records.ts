/**
 * Management-API audit records (microsoft-notes §2.3) as Purview audit search returns them:
 * `microsoft.graph.security.auditLogRecord` (microsoft-notes §3.4), with the raw record in `auditData`.
 */
import type { RawRecord } from '../types';
import { parseTimestamp } from './odata-eval';

/** `AuditLogRecordType` numbers (Management API) → the camelCase names Graph uses. */
const RECORD_TYPES: Record<number, string> = {
  1: 'exchangeAdmin',
  2: 'exchangeItem',
  3: 'exchangeItemGroup',
  4: 'sharePoint',
  6: 'sharePointFileOperation',
  7: 'oneDrive',
  8: 'azureActiveDirectory',
  9: 'azureActiveDirectoryAccountLogon',
  10: 'dataCenterSecurityCmdlet',
  11: 'complianceDLPSharePoint',
  13: 'complianceDLPExchange',
  14: 'sharePointSharingOperation',
  15: 'azureActiveDirectoryStsLogon',
  18: 'securityComplianceCenterEOPCmdlet',
  19: 'exchangeAggregatedOperation',
  20: 'powerBIAudit',
  21: 'crm',
  22: 'yammer',
  24: 'discovery',
  25: 'microsoftTeams',
  28: 'threatIntelligence',
  29: 'mailSubmission',
  30: 'microsoftFlow',
  32: 'microsoftStream',
  36: 'sharePointListOperation',
  37: 'sharePointCommentOperation',
  40: 'securityComplianceAlerts',
  41: 'threatIntelligenceUrl',
  43: 'mipLabel',
  45: 'powerAppsApp',
  47: 'threatIntelligenceAtpContent',
  54: 'sharePointListItemOperation',
  57: 'microsoftTeamsAdmin',
  63: 'dlpEndpoint',
  64: 'airInvestigation',
  65: 'quarantine',
  66: 'microsoftForms',
};

/** `UserType` numbers (microsoft-notes §2.3) → Graph's `auditUserType` names. */
const USER_TYPES = ['regular', 'reserved', 'admin', 'dcAdmin', 'system', 'application', 'servicePrincipal', 'customPolicy', 'systemPolicy'];

export function recordTypeName(raw: RawRecord): string {
  const value = raw.RecordType;
  if (typeof value === 'number') return RECORD_TYPES[value] ?? 'unknownFutureValue';
  if (typeof value === 'string' && value) return value.charAt(0).toLowerCase() + value.slice(1);
  return 'unknownFutureValue';
}

/** `CreationTime` has no zone suffix and is UTC (microsoft-notes §2.3, M7). */
export function creationMs(raw: RawRecord): number {
  return parseTimestamp(raw.CreationTime);
}

/** `ClientIP` may carry a port or brackets (microsoft-notes §2.3). */
export function bareIp(value: unknown): string {
  if (typeof value !== 'string') return '';
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value);
  return v4WithPort ? v4WithPort[1] : value;
}

export function toAuditLogRecord(raw: RawRecord): RawRecord {
  const ms = creationMs(raw);
  const userType = typeof raw.UserType === 'number' ? (USER_TYPES[raw.UserType] ?? 'unknownFutureValue') : 'regular';
  return {
    '@odata.type': '#microsoft.graph.security.auditLogRecord',
    id: String(raw.Id),
    createdDateTime: Number.isNaN(ms) ? null : new Date(ms).toISOString(),
    auditLogRecordType: recordTypeName(raw),
    operation: raw.Operation ?? null,
    organizationId: raw.OrganizationId ?? null,
    userType,
    userId: raw.UserId ?? null,
    userPrincipalName: raw.UserId ?? null,
    service: raw.Workload ?? null,
    objectId: raw.ObjectId ?? null,
    clientIp: raw.ClientIP ?? null,
    administrativeUnits: [],
    auditData: { '@odata.type': '#microsoft.graph.security.defaultAuditData', ...raw },
  };
}
