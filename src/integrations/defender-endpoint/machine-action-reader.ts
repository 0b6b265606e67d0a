import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { DefenderClient, odataString } from './defender-client';
import type { MachineAction } from './defender-types';

interface Waiter {
  resolve: (action: MachineAction | null) => void;
  reject: (error: unknown) => void;
}

/** Ids per list call: keeps the `$filter` URL about 2.5 KB. */
const BATCH = 50;
/** How long a read waits for others to share its call: at most a quarter second, well under the polling interval. */
const gatherMs = (pollInitialMs: number) => Math.min(250, pollInitialMs / 4);

/**
 * Reads machine actions for tracking. Polling each action on its own would spend the per-API budget
 * (100/min) of `GET /api/machineactions/{id}` on a mass isolation; reads that arrive together are
 * answered by one `GET /api/machineactions?$filter=id eq … or id eq …` instead (get-machineactions-collection).
 */
@Injectable()
export class MachineActionReader {
  private readonly gathering = new Map<string, { waiters: Map<string, Waiter[]>; timer: NodeJS.Timeout }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly client: DefenderClient,
  ) {}

  /** The machine action, or null when Defender does not list it (yet: replication lag, microsoft-notes §5.3). */
  read(tenantId: string, id: string): Promise<MachineAction | null> {
    return new Promise((resolve, reject) => {
      let batch = this.gathering.get(tenantId);
      if (!batch) {
        batch = { waiters: new Map(), timer: setTimeout(() => void this.flush(tenantId), gatherMs(this.config.defenderEndpoint.pollInitialMs)) };
        this.gathering.set(tenantId, batch);
      }
      const key = id.toLowerCase();
      batch.waiters.set(key, [...(batch.waiters.get(key) ?? []), { resolve, reject }]);
      if (batch.waiters.size >= BATCH) {
        clearTimeout(batch.timer);
        void this.flush(tenantId);
      }
    });
  }

  private async flush(tenantId: string): Promise<void> {
    const batch = this.gathering.get(tenantId);
    if (!batch) return;
    this.gathering.delete(tenantId);
    const ids = [...batch.waiters.keys()];
    try {
      const found = await this.client.actions(tenantId, ids.map((id) => `id eq ${odataString(id)}`).join(' or '));
      const byId = new Map(found.map((a) => [a.id.toLowerCase(), a]));
      for (const [id, waiters] of batch.waiters) for (const w of waiters) w.resolve(byId.get(id) ?? null);
    } catch (error) {
      for (const waiters of batch.waiters.values()) for (const w of waiters) w.reject(error);
    }
  }
}
