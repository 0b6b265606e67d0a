import { Injectable, StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { AuditEntry } from './audit-entry';
import { AuditLogService } from './audit-log.service';

const CSV_COLUMNS = [
  'seq',
  'at',
  'event',
  'actor_type',
  'actor_id',
  'actor_name',
  'tenant_id',
  'action_id',
  'subject',
  'request_id',
  'data',
  'prev_hash',
  'hash',
];

/**
 * RFC 4180 quoting. A cell that a spreadsheet would run as a formula (leading = + - @, tab, CR) gets a
 * leading apostrophe; the hash covers the stored values, so verification is done on the JSON forms.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(entry: AuditEntry): string {
  const cells = [
    entry.seq,
    entry.at,
    entry.event,
    entry.actor.type,
    entry.actor.id,
    entry.actor.name,
    entry.tenantId,
    entry.actionId,
    entry.subject,
    entry.requestId,
    entry.data,
    entry.prevHash,
    entry.hash,
  ];
  return cells.map(csvCell).join(',') + '\r\n';
}

@Injectable()
export class AuditLogExporter {
  constructor(private readonly auditLog: AuditLogService) {}

  /** Streams the entries batch by batch with backpressure: memory stays flat however many there are. */
  export(query: { format: 'ndjson' | 'csv'; since?: Date; until?: Date }): StreamableFile {
    const filter = { since: query.since, until: query.until };
    const csv = query.format === 'csv';
    const auditLog = this.auditLog;
    async function* lines(): AsyncGenerator<string> {
      if (!csv) return yield* auditLog.ndjson(filter);
      yield CSV_COLUMNS.join(',') + '\r\n';
      for await (const batch of auditLog.entries(filter)) yield batch.map(csvLine).join('');
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return new StreamableFile(Readable.from(lines(), { objectMode: false }), {
      type: csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="cordon-audit-log-${stamp}.${csv ? 'csv' : 'ndjson'}"`,
    });
  }
}
