import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RequestContext } from '../../access/access.decorator';
import { canAccessTenant } from '../../access/tenant-scope';
import type { AuditEntry, AuditEntryInput } from '../../audit-log/audit-entry';
import { AuditLogService } from '../../audit-log/audit-log.service';
import { problems } from '../../common/problem';
import { actionAudit } from '../action-audit';
import type { ActionHandler, ActionTarget } from '../action-handler';
import type { ActionEntity } from '../action.entity';
import { ActionsRepository } from '../actions.repository';
import type { ActionEvidenceResponse } from '../dto/evidence.dto';
import { evidenceSha256, EvidenceSnapshots, type HashedSnapshotItem } from './evidence-snapshots';

const STEP_EVENTS = new Set(['action.step.succeeded', 'action.step.skipped', 'action.step.failed']);

/**
 * The evidence of an action (ARCHITECTURE.md §5.7): the snapshot of its target taken before the first
 * step, and what every step recorded. Both live in the audit log — the snapshot as an `action.snapshot`
 * entry, a step's detail in its `action.step.*` entry, each with its SHA-256 — so the verified chain
 * proves them unaltered and the audit export carries them.
 */
@Injectable()
export class ActionEvidence {
  private readonly logger = new Logger(ActionEvidence.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly snapshots: EvidenceSnapshots,
    private readonly repository: ActionsRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  /**
   * The `action.snapshot` audit entry for `action`, to be written in the statement that starts its first
   * step — so the snapshot is in the log before anything is asked of Microsoft, at no extra commit. Null
   * when the target kind has no snapshot reads, or when `again` (the first step was started before, by a
   * run that may have died after recording its snapshot) and one is recorded already. Never throws: a
   * snapshot that cannot be taken is logged and the action goes on (containment comes first).
   */
  async snapshotEntry(
    action: ActionEntity,
    handler: ActionHandler,
    input: { target: ActionTarget; capabilities: Record<string, string>; requestId: string; again?: boolean },
  ): Promise<AuditEntryInput | null> {
    if (!this.snapshots.covers(handler)) return null;
    try {
      if (input.again && (await this.hasSnapshot(action.id))) return null;
      const items = await this.snapshots.take(handler.targetKind, {
        actionId: action.id,
        tenantId: action.tenantId,
        target: input.target,
        capabilities: input.capabilities,
      });
      return actionAudit.snapshot(action, input.requestId, items);
    } catch (error) {
      this.logger.warn({ err: error, actionId: action.id }, 'the evidence snapshot could not be taken; the action goes on');
      return null;
    }
  }

  private async hasSnapshot(actionId: string): Promise<boolean> {
    const rows = await this.dataSource.query(
      `SELECT 1 FROM audit_log WHERE action_id = $1 AND event = 'action.snapshot'
       UNION ALL SELECT 1 FROM audit_pending WHERE action_id = $1 AND event = 'action.snapshot' LIMIT 1`,
      [actionId],
    );
    return rows.length > 0;
  }

  /** GET /v1/actions/{id}/evidence: read from the sealed audit entries of the action. */
  async of(actionId: string, context: RequestContext): Promise<ActionEvidenceResponse> {
    const action = await this.repository.findById(actionId);
    if (!action || !canAccessTenant(context.principal, action.tenantId)) throw problems.notFound(`Action ${actionId} does not exist.`);
    const entries: AuditEntry[] = [];
    for await (const batch of this.auditLog.entries({ actionId })) entries.push(...batch);
    const snapshotEntry = entries.find((e) => e.event === 'action.snapshot');
    const items = (snapshotEntry?.data.items as HashedSnapshotItem[] | undefined) ?? [];
    return {
      actionId: action.id,
      tenantId: action.tenantId,
      type: action.type,
      target: (action.target as { display?: string }).display ?? action.targetKey,
      snapshot: snapshotEntry
        ? {
            takenAt: snapshotEntry.at,
            audit: { seq: snapshotEntry.seq, hash: snapshotEntry.hash },
            items: items.map(({ sha256: recorded, ...item }) => ({ ...item, sha256: evidenceSha256(item), recordedSha256: recorded })),
          }
        : null,
      steps: entries
        .filter((e) => STEP_EVENTS.has(e.event) && e.data.detail !== undefined)
        .map((e) => ({
          step: String(e.data.step),
          position: Number(e.data.position),
          status: e.event.slice('action.step.'.length),
          at: e.at,
          evidence: e.data.detail as Record<string, unknown>,
          sha256: evidenceSha256(e.data.detail),
          recordedSha256: (e.data.evidenceSha256 as string | undefined) ?? null,
          audit: { seq: e.seq, hash: e.hash },
        })),
    };
  }
}
