import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../../collection/collector';
import { normalizeClientIp, normalizeResultStatus, normalizeUserId, text } from '../../collection/normalize';

/**
 * Office 365 Management Activity records (microsoft-notes §2.3) to the events store's columns. Nothing is
 * dropped: a record of an unknown type keeps its raw form and whatever common fields it has.
 */

/** The content type's usual workload, for records that do not say (Workload is optional). */
const WORKLOAD_OF_CONTENT_TYPE: Record<string, string> = {
  'Audit.AzureActiveDirectory': 'AzureActiveDirectory',
  'Audit.Exchange': 'Exchange',
  'Audit.SharePoint': 'SharePoint',
};

/**
 * `rawText`: the record's JSON as delivered, when the caller has it (a streamed blob): stored as it
 * is, which spares serializing the record again and keeps numbers beyond a double's precision exact.
 */
export function normalizeRecord(record: Record<string, unknown>, contentType: string, fallbackTime: Date, rawText?: string): NormalizedEvent {
  return new NormalizedRecord(
    recordIdOf(record, rawText),
    parseCreationTime(record.CreationTime) ?? fallbackTime,
    text(record.Workload) ?? WORKLOAD_OF_CONTENT_TYPE[contentType] ?? null,
    integer(record.RecordType),
    text(record.Operation),
    normalizeResultStatus(record.ResultStatus),
    normalizeUserId(record.UserId),
    integer(record.UserType),
    normalizeClientIp(record.ClientIP ?? record.ClientIPAddress ?? record.ActorIpAddress),
    text(record.ObjectId),
    rawText ?? JSON.stringify(record),
  );
}

/**
 * A class rather than an object literal, on purpose. V8 watches each literal's allocation site and,
 * once nearly all of a site's objects outlive a young-generation collection (a batch's records do:
 * they wait for the database), allocates that site's objects straight in the old generation. Every
 * record's strings are then promoted too and pile up as garbage until a full collection, hundreds of
 * MB at ingest rates (bench/RESULTS.md, ingest). Objects made with `new` have no allocation site.
 */
class NormalizedRecord implements NormalizedEvent {
  constructor(
    readonly recordId: string,
    readonly occurredAt: Date,
    readonly workload: string | null,
    readonly recordType: number | null,
    readonly operation: string | null,
    readonly resultStatus: string | null,
    readonly userId: string | null,
    readonly userType: number | null,
    readonly clientIp: string | null,
    readonly objectId: string | null,
    readonly raw: string,
  ) {}
}

/**
 * `Id` is the record's unique id (dedupe key, microsoft-notes §2.3), folded to lower case (a GUID's
 * casing means nothing). A numeric id is read from the record's text, so
 * ids beyond a double's precision stay apart (microsoft-notes M34). A record without one gets a content
 * hash so a re-delivery still dedupes.
 */
export function recordIdOf(record: Record<string, unknown>, rawText?: string): string {
  if (typeof record.Id === 'number' && rawText !== undefined) {
    const digits = topLevelNumberText(rawText, 'Id');
    if (digits) return digits;
  }
  const id = text(record.Id);
  if (id) return id.toLowerCase();
  return `sha256:${createHash('sha256').update(JSON.stringify(record)).digest('hex')}`;
}

/**
 * The text of a number member of the top-level object, as written (`"Id": 123456789012345678901`), or
 * null. Scans strings and nesting so a nested member of the same name is not taken.
 */
export function topLevelNumberText(json: string, name: string): string | null {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      const end = stringEnd(json, i);
      if (depth === 1 && json.slice(i + 1, end) === name) {
        const m = /^\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(json.slice(end + 1, end + 400));
        if (m) return m[1];
      }
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return null;
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(json: string, start: number): number {
  for (let i = start + 1; i < json.length; i++) {
    if (json[i] === '\\') i++;
    else if (json[i] === '"') return i;
  }
  return json.length;
}

/** CreationTime has no zone suffix and is UTC (microsoft-notes M7); one with a zone is taken as it says. */
export function parseCreationTime(value: unknown): Date | null {
  const raw = text(value);
  if (!raw) return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(raw);
  if (!match) return null;
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = match;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction.slice(0, 4)}${zone ? normalizeZone(zone) : 'Z'}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

function normalizeZone(zone: string): string {
  if (zone.toUpperCase() === 'Z') return 'Z';
  return zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
}

function integer(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && Math.abs(n) <= 2_147_483_647 ? n : null;
}
