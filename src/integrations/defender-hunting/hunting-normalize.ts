import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../../collection/collector';
import { normalizeClientIp, normalizeUserId, text } from '../../collection/normalize';
import type { HuntingTable } from './hunting-tables';

/** A hunting row as Graph returns it: one property per column of the query's `schema`. */
export type HuntingRow = Record<string, unknown>;

const RESULT: Record<string, string> = { LogonSuccess: 'Succeeded', LogonFailed: 'Failed', ClickAllowed: 'Succeeded', ClickBlocked: 'Failed' };

function first(row: HuntingRow, columns: readonly string[], read: (v: unknown) => string | null): string | null {
  for (const column of columns) {
    const value = read(row[column]);
    if (value) return value;
  }
  return null;
}

/**
 * The record id: the table and a digest of its key columns (microsoft-notes §10), so one row read by
 * two overlapping queries is stored once. Timestamp is kept as sent, with its seven fractional digits.
 */
export function huntingRecordId(table: HuntingTable, row: HuntingRow): string {
  const key = table.key.map((column) => (row[column] === undefined || row[column] === null ? '' : JSON.stringify(row[column])));
  return `${table.name}:${createHash('sha256').update(key.join('|')).digest('hex').slice(0, 40)}`;
}

/** A row for the events store, or null when it has no usable Timestamp. */
export function normalizeHuntingRow(table: HuntingTable, row: HuntingRow): NormalizedEvent | null {
  const at = typeof row.Timestamp === 'string' ? Date.parse(row.Timestamp) : NaN;
  if (Number.isNaN(at)) return null;
  const action = text(row.ActionType);
  return {
    recordId: huntingRecordId(table, row),
    occurredAt: new Date(at),
    workload: table.workload,
    recordType: null,
    operation: action ?? table.name,
    resultStatus: action ? (RESULT[action] ?? null) : null,
    userId: first(row, table.user, normalizeUserId),
    userType: null,
    clientIp: first(row, table.ip, normalizeClientIp),
    objectId: first(row, table.object, text),
    raw: JSON.stringify({ Table: table.name, ...row }),
  };
}
