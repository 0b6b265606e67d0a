import type { NormalizedEvent } from '../../collection/collector';
import { normalizeClientIp, normalizeResultStatus, normalizeUserId } from '../../collection/normalize';

type Json = Record<string, unknown>;

/**
 * A Purview `auditLogRecord` (microsoft-notes §3.4) in the events store's columns. Its `auditData` is the
 * Management API record, so the numeric `RecordType`/`UserType` and `ResultStatus` come from there,
 * the rest from Graph's top-level fields; the whole Graph record is kept as the raw record.
 */
export function normalizeAuditLogRecord(record: Json): NormalizedEvent | null {
  const id = text(record.id);
  const data = typeof record.auditData === 'object' && record.auditData !== null ? (record.auditData as Json) : {};
  const time = text(record.createdDateTime) ?? text(data.CreationTime);
  const occurredAt = time ? new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(time) ? time : `${time}Z`) : null;
  if (!id || !occurredAt || Number.isNaN(occurredAt.getTime())) return null;
  return {
    recordId: id.toLowerCase(),
    occurredAt,
    workload: text(record.service) ?? text(data.Workload),
    recordType: integer(data.RecordType),
    operation: text(record.operation) ?? text(data.Operation),
    resultStatus: normalizeResultStatus(data.ResultStatus),
    userId: normalizeUserId(record.userPrincipalName) ?? normalizeUserId(record.userId) ?? normalizeUserId(data.UserId),
    userType: integer(data.UserType),
    clientIp: normalizeClientIp(record.clientIp) ?? normalizeClientIp(data.ClientIP),
    objectId: text(record.objectId) ?? text(data.ObjectId),
    raw: JSON.stringify(record),
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2_147_483_647 ? value : null;
}
