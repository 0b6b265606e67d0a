import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { absent, EvidenceSnapshots, type SnapshotInput } from '../../actions/evidence/evidence-snapshots';

const OPEN_ALERTS = 50;
const RECENT_ACTIONS = 10;

/**
 * What a device looked like before Cordon changed it (issue 21, ARCHITECTURE.md §5.7): its machine record,
 * its open alerts and the last response actions on it. All three come from Cordon's own stores — the
 * device inventory, the collected Defender XDR alerts and the actions log — and cost no Defender call:
 * Defender's per-API budget (100 calls a minute) belongs to containment and to tracking it, and a mass
 * isolation must not queue behind its own snapshots. Machine actions started outside Cordon (the portal)
 * are therefore not in the last item; the machine record says when the inventory last read it.
 */
@Injectable()
export class DeviceSnapshot implements OnModuleInit {
  constructor(
    private readonly snapshots: EvidenceSnapshots,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.snapshots.register('device', 'machine', (i) => this.machine(i));
    this.snapshots.register('device', 'openAlerts', (i) => this.openAlerts(i));
    this.snapshots.register('device', 'recentActions', (i) => this.recentActions(i));
  }

  private async machine({ tenantId, target }: SnapshotInput) {
    const [row] = await this.dataSource.query(`SELECT raw, synced_at AS "syncedAt" FROM devices WHERE tenant_id = $1 AND machine_id = $2`, [
      tenantId,
      target.id,
    ]);
    if (!row) return absent("the device is not in Cordon's inventory yet");
    return { source: "Cordon's device inventory", syncedAt: new Date(row.syncedAt).toISOString(), record: row.raw };
  }

  private async openAlerts({ tenantId, target }: SnapshotInput) {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id, title, severity, status, created_at AS "createdAt", incident_id AS "incidentId"
         FROM security_alerts
        WHERE tenant_id = $1 AND coalesce(status, '') <> 'resolved'
          AND raw->'evidence' @> jsonb_build_array(jsonb_build_object('mdeDeviceId', $2::text))
        ORDER BY created_at DESC LIMIT $3`,
      [tenantId, target.id, OPEN_ALERTS],
    );
    return {
      source: "Cordon's store of Defender XDR alerts",
      alerts: rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt as string).toISOString() })),
    };
  }

  private async recentActions({ actionId, tenantId, target }: SnapshotInput) {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id, type, status, requested_by->>'name' AS "requestedBy", reason, created_at AS "createdAt"
         FROM actions
        WHERE tenant_id = $1 AND target->>'id' = $2 AND type LIKE 'device.%' AND NOT dry_run AND id <> $3
        ORDER BY created_at DESC LIMIT $4`,
      [tenantId, target.id, actionId, RECENT_ACTIONS],
    );
    return {
      source: "Cordon's actions (not those started in the Defender portal)",
      actions: rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt as string).toISOString() })),
    };
  }
}
