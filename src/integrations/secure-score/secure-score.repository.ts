import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { countRows } from '../../database/written-rows';
import { SecureScoreSnapshotEntity } from './secure-score-snapshot.entity';

/** SQL of Secure Score snapshots. */
@Injectable()
export class SecureScoreRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Stores the day's snapshot once; answers false when it was stored already (a re-run). */
  async insertSnapshot(manager: EntityManager, snapshot: Omit<SecureScoreSnapshotEntity, 'id' | 'collectedAt' | 'tenant'>): Promise<boolean> {
    const rows: unknown = await manager.query(
      `INSERT INTO secure_score_snapshots (tenant_id, score_id, scored_at, current_score, max_score, controls, raw, profiles)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb)
       ON CONFLICT (tenant_id, scored_at) DO NOTHING RETURNING 1`,
      [
        snapshot.tenantId,
        snapshot.scoreId,
        snapshot.scoredAt,
        snapshot.currentScore,
        snapshot.maxScore,
        JSON.stringify(snapshot.controls),
        JSON.stringify(snapshot.raw),
        JSON.stringify(snapshot.profiles),
      ],
    );
    return countRows(rows) === 1;
  }

  /** The tenant's two newest snapshots, newest first. */
  latestTwo(tenantId: string): Promise<SecureScoreSnapshotEntity[]> {
    return this.dataSource.getRepository(SecureScoreSnapshotEntity).find({ where: { tenantId }, order: { scoredAt: 'DESC' }, take: 2 });
  }
}
