import type { NormalizedEvent } from '../../collection/collector';
import { normalizeClientIp, normalizeResultStatus, normalizeUserId } from '../../collection/normalize';

/**
 * Graph's Entra records (microsoft-notes §3.3) in the events store's columns, which were shaped for
 * Management Activity records: the record id, when it happened, who (UPN, lower-case), from where,
 * what (operation) and how it ended; `recordType` and `userType` are Management API numbers and stay
 * null. The raw record is kept whole.
 */

type Json = Record<string, unknown>;

/** Entra records come from the directory service: the same workload name the Management API uses. */
const WORKLOAD = 'AzureActiveDirectory';

/** A signIn: `status.errorCode` 0 is success, anything else a failure with its reason. */
export function normalizeSignIn(record: Json): NormalizedEvent | null {
  const status = object(record.status);
  const errorCode = status?.errorCode;
  return build(record, record.createdDateTime, {
    operation: record.isInteractive === false ? 'NonInteractiveSignIn' : 'SignIn',
    resultStatus: typeof errorCode === 'number' ? (errorCode === 0 ? 'Succeeded' : 'Failed') : null,
    userId: normalizeUserId(record.userPrincipalName) ?? normalizeUserId(record.userId),
    clientIp: normalizeClientIp(record.ipAddress),
    objectId: text(record.appId) ?? text(record.resourceId),
  });
}

/** A directoryAudit: initiated by a user (UPN, IP) or an app (its app id); the first target is the object. */
export function normalizeDirectoryAudit(record: Json): NormalizedEvent | null {
  const by = object(record.initiatedBy);
  const user = object(by?.user);
  const app = object(by?.app);
  const target = Array.isArray(record.targetResources) ? object(record.targetResources[0]) : undefined;
  return build(record, record.activityDateTime, {
    operation: text(record.activityDisplayName),
    resultStatus: normalizeResultStatus(record.result),
    userId: normalizeUserId(user?.userPrincipalName) ?? normalizeUserId(user?.id) ?? normalizeUserId(app?.appId) ?? normalizeUserId(app?.displayName),
    clientIp: normalizeClientIp(user?.ipAddress),
    objectId: text(target?.userPrincipalName) ?? text(target?.id),
  });
}

/** A riskDetection: the risk event type is the operation, its state the result; it happened at `activityDateTime`. */
export function normalizeRiskDetection(record: Json): NormalizedEvent | null {
  return build(record, record.activityDateTime ?? record.detectedDateTime, {
    operation: text(record.riskEventType),
    resultStatus: text(record.riskState),
    userId: normalizeUserId(record.userPrincipalName) ?? normalizeUserId(record.userId),
    clientIp: normalizeClientIp(record.ipAddress),
    objectId: text(record.userId),
  });
}

function build(
  record: Json,
  time: unknown,
  fields: Pick<NormalizedEvent, 'operation' | 'resultStatus' | 'userId' | 'clientIp' | 'objectId'>,
): NormalizedEvent | null {
  const id = text(record.id);
  const occurredAt = typeof time === 'string' ? new Date(time) : null;
  // Graph records always carry both; one without is not a record we can key or place, and the
  // caller reports it rather than storing it under a made-up id or time.
  if (!id || !occurredAt || Number.isNaN(occurredAt.getTime())) return null;
  return { recordId: id.toLowerCase(), occurredAt, workload: WORKLOAD, recordType: null, userType: null, ...fields, raw: JSON.stringify(record) };
}

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
