import type { ManageOptions, RawRecord } from './types';

/**
 * Management Activity API constants and defaults (microsoft-notes §2).
 */

export const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type ResolvedManageOptions = Required<Omit<ManageOptions, 'subscriptions'>> & Pick<ManageOptions, 'subscriptions'>;

export function manageOptions(o: ManageOptions = {}): ResolvedManageOptions {
  return {
    latencyMs: o.latencyMs ?? 30 * MINUTE,
    blobWindowMs: o.blobWindowMs ?? 15 * MINUTE,
    pageSize: o.pageSize ?? 50,
    contentRetentionMs: o.contentRetentionMs ?? 7 * DAY,
    duplicateBlobEvery: o.duplicateBlobEvery ?? 0,
    duplicateDelayMs: o.duplicateDelayMs ?? HOUR,
    lateRecordFraction: o.lateRecordFraction ?? 0,
    lateRecordDelayMs: o.lateRecordDelayMs ?? 3 * DAY,
    windowErrorCode: o.windowErrorCode ?? 'AF20030',
    rejectExactly24h: o.rejectExactly24h ?? true,
    throttlePerMinute: o.throttlePerMinute ?? 2000,
    throttleSharedPerMinute: o.throttleSharedPerMinute ?? 300,
    throttleWindowMs: o.throttleWindowMs ?? MINUTE,
    subscriptions: o.subscriptions,
  };
}

export function findContentType(s: string | null): ContentType | undefined {
  if (!s) return undefined;
  return CONTENT_TYPES.find((c) => c.toLowerCase() === s.toLowerCase());
}

/** RecordTypes that go to DLP.All: ComplianceDLPSharePoint (11), ComplianceDLPExchange (13), ComplianceDLPSharePointClassification (33). */
const DLP_RECORD_TYPES = new Set([11, 13, 33]);

/**
 * Which content type a record belongs to (microsoft-notes §2.1): DLP record types ⇒ DLP.All; Workload
 * AzureActiveDirectory/Exchange/SharePoint(+OneDrive) ⇒ their own type; everything else ⇒ Audit.General.
 * A `_simContentType` field on a record overrides this.
 */
export function contentTypeOfRecord(record: RawRecord): ContentType {
  const forced = findContentType(typeof record._simContentType === 'string' ? record._simContentType : null);
  if (forced) return forced;
  if (DLP_RECORD_TYPES.has(Number(record.RecordType))) return 'DLP.All';
  switch (String(record.Workload ?? '').toLowerCase()) {
    case 'azureactivedirectory':
      return 'Audit.AzureActiveDirectory';
    case 'exchange':
      return 'Audit.Exchange';
    case 'sharepoint':
    case 'onedrive':
      return 'Audit.SharePoint';
    default:
      return 'Audit.General';
  }
}

/** Parses a CreationTime (UTC, usually without a zone suffix, microsoft-notes M7). NaN when unparseable. */
export function parseCreationTime(value: unknown): number {
  if (typeof value !== 'string' || !value) return NaN;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  return Date.parse(hasZone ? value : `${value}Z`);
}

/** `2025-03-03T11:02:09`: how the API writes CreationTime. */
export function formatCreationTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Strips the simulator's own `_sim*` fields before serving a record. */
export function servedRecord(record: RawRecord): RawRecord {
  if (!Object.keys(record).some((k) => k.startsWith('_sim'))) return record;
  return Object.fromEntries(Object.entries(record).filter(([k]) => !k.startsWith('_sim')));
}
