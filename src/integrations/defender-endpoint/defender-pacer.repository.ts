import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { nextSlot, type PacingLimits } from './pacing';

/**
 * Call slots per tenant and Defender API (table `defender_api_slots`), shared by every replica through
 * the database: a booking takes a transaction-scoped advisory lock on (tenant, API), so bookings of one
 * API on one tenant are serialized and appended in time order.
 */
@Injectable()
export class DefenderPacerRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Books the earliest slot the limits allow and answers it with the database's clock. */
  book(tenantId: string, api: string, limits: PacingLimits): Promise<{ atMs: number; nowMs: number }> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`defender-pacer:${tenantId}:${api}`]);
      const [row] = await manager.query(
        `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms,
                (SELECT extract(epoch FROM max(at)) * 1000 FROM defender_api_slots WHERE tenant_id = $1 AND api = $2)::float8 AS newest,
                (SELECT extract(epoch FROM at) * 1000 FROM defender_api_slots WHERE tenant_id = $1 AND api = $2 ORDER BY at DESC OFFSET $3 LIMIT 1)::float8 AS minute_anchor,
                (SELECT extract(epoch FROM at) * 1000 FROM defender_api_slots WHERE tenant_id = $1 AND api = $2 ORDER BY at DESC OFFSET $4 LIMIT 1)::float8 AS hour_anchor`,
        [tenantId, api, limits.perMinute - 1, limits.perHour - 1],
      );
      const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
      const nowMs = Number(row.now_ms);
      const atMs = nextSlot(nowMs, { newest: num(row.newest), minuteAnchor: num(row.minute_anchor), hourAnchor: num(row.hour_anchor) }, limits);
      await manager.query(`INSERT INTO defender_api_slots (tenant_id, api, at) VALUES ($1, $2, to_timestamp($3::float8 / 1000))`, [tenantId, api, atMs]);
      // Bookings older than the hour window no longer constrain anything.
      await manager.query(`DELETE FROM defender_api_slots WHERE tenant_id = $1 AND api = $2 AND at < to_timestamp($3::float8 / 1000)`, [
        tenantId,
        api,
        nowMs - limits.hourMs - limits.marginMs,
      ]);
      return { atMs, nowMs };
    });
  }
}
