/**
 * Graph security objects (microsoft-notes §3.2) as rows: the columns Cordon filters on, plus the object as
 * delivered. Enums stay open (microsoft-notes M10): any string is kept, only its case is made consistent, because
 * Microsoft's samples show the same members in PascalCase and camelCase ("normalise case-insensitively").
 */

type Raw = Record<string, unknown>;

export interface AlertRow {
  id: string;
  incidentId: string | null;
  providerAlertId: string | null;
  serviceSource: string | null;
  detectionSource: string | null;
  severity: string | null;
  status: string | null;
  classification: string | null;
  determination: string | null;
  title: string | null;
  category: string | null;
  /** ISO 8601 at millisecond precision (what a keyset cursor can carry exactly). */
  createdAt: string;
  lastUpdateAt: string;
  resolvedAt: string | null;
  raw: Raw;
}

export interface IncidentRow {
  id: string;
  displayName: string | null;
  severity: string | null;
  status: string | null;
  classification: string | null;
  determination: string | null;
  assignedTo: string | null;
  redirectIncidentId: string | null;
  createdAt: string;
  lastUpdateAt: string;
  raw: Raw;
}

/** A row, or why the object cannot be stored (reported as a gap, never dropped silently). */
export type Normalized<T> = { row: T } | { refused: string };

/** `High` and `high` are the same member; an unknown member is kept as it came (first letter lower-cased). */
export function openEnum(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (!text) return null;
  return text[0].toLowerCase() + text.slice(1);
}

function text(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  return value === '' ? null : value;
}

/** Graph sends up to 7 fractional digits; rows keep milliseconds so stored keys and cursors agree. */
export function timestamp(value: unknown): string | null {
  if (typeof value !== 'string' || !value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Created and last-updated times; either stands in for the other when one is missing. */
function times(raw: Raw): { createdAt: string; lastUpdateAt: string } | undefined {
  const created = timestamp(raw.createdDateTime);
  const updated = timestamp(raw.lastUpdateDateTime);
  if (!created && !updated) return undefined;
  return { createdAt: created ?? updated!, lastUpdateAt: updated ?? created! };
}

export function normalizeAlert(raw: Raw): Normalized<AlertRow> {
  const id = text(raw.id);
  if (!id) return { refused: 'an alert without an id' };
  const when = times(raw);
  if (!when) return { refused: `alert ${id} has neither createdDateTime nor lastUpdateDateTime` };
  return {
    row: {
      id,
      incidentId: text(raw.incidentId),
      providerAlertId: text(raw.providerAlertId),
      serviceSource: openEnum(raw.serviceSource),
      detectionSource: openEnum(raw.detectionSource),
      severity: openEnum(raw.severity),
      status: openEnum(raw.status),
      classification: openEnum(raw.classification),
      determination: openEnum(raw.determination),
      title: text(raw.title),
      category: text(raw.category),
      ...when,
      resolvedAt: timestamp(raw.resolvedDateTime),
      raw,
    },
  };
}

export function normalizeIncident(raw: Raw): Normalized<IncidentRow> {
  const id = text(raw.id);
  if (!id) return { refused: 'an incident without an id' };
  const when = times(raw);
  if (!when) return { refused: `incident ${id} has neither createdDateTime nor lastUpdateDateTime` };
  // `alerts` is only present with $expand, which Cordon does not use (microsoft-notes M9); never store a partial copy.
  const { alerts: _expanded, ...rest } = raw;
  return {
    row: {
      id,
      displayName: text(raw.displayName),
      severity: openEnum(raw.severity),
      status: openEnum(raw.status),
      classification: openEnum(raw.classification),
      determination: openEnum(raw.determination),
      assignedTo: text(raw.assignedTo),
      redirectIncidentId: text(raw.redirectIncidentId),
      ...when,
      raw: rest,
    },
  };
}

/**
 * One row per id, the newest version winning: a page may carry an object twice when it changed while
 * Graph was paging, and one upsert statement may not touch a row twice.
 */
export function newestPerId<T extends { id: string; lastUpdateAt: string }>(rows: T[]): T[] {
  const byId = new Map<string, T>();
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (!seen || seen.lastUpdateAt <= row.lastUpdateAt) byId.set(row.id, row);
  }
  return [...byId.values()];
}
