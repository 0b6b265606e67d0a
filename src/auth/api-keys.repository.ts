import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, IsNull, Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>) {}

  findByHash(hash: Buffer): Promise<ApiKeyEntity | null> {
    return this.keys.findOne({ where: { keyHash: hash } });
  }

  /** Reads the key and locks its row for the rest of the caller's transaction. */
  findById(id: string, manager: EntityManager): Promise<ApiKeyEntity | null> {
    return manager.getRepository(ApiKeyEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  insert(key: Omit<ApiKeyEntity, 'id' | 'createdAt' | 'revokedAt' | 'revokedBy' | 'lastUsedAt'>, manager: EntityManager): Promise<ApiKeyEntity> {
    const repository = manager.getRepository(ApiKeyEntity);
    return repository.save(repository.create({ ...key, revokedAt: null, revokedBy: null, lastUsedAt: null }));
  }

  /** Newest first, keyset on (created_at, id). */
  listPage(limit: number, after?: { createdAt: string; id: string }): Promise<ApiKeyEntity[]> {
    const query = this.keys
      .createQueryBuilder('k')
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit + 1);
    if (after) {
      query.where(
        new Brackets((q) =>
          q.where('k.created_at < :at', { at: after.createdAt }).orWhere('k.created_at = :at AND k.id < :id', { at: after.createdAt, id: after.id }),
        ),
      );
    }
    return query.getMany();
  }

  /** Marks the key revoked; false when it does not exist or was already revoked. */
  async revoke(id: string, by: string, manager: EntityManager): Promise<boolean> {
    const result = await manager.getRepository(ApiKeyEntity).update({ id, revokedAt: IsNull() }, { revokedAt: () => 'now()', revokedBy: by });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Sets `last_used_at` to now unless it is younger than `resolutionMs` (another replica wrote it), in
   * one statement that writes nothing in that case; answers the value stored afterwards.
   */
  async touch(id: string, resolutionMs: number): Promise<Date | null> {
    const rows: Array<{ last_used_at: Date | null }> = await this.keys.query(
      `WITH touched AS (
         UPDATE api_keys SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= now() - make_interval(secs => $2))
          RETURNING last_used_at)
       SELECT last_used_at FROM touched UNION ALL SELECT last_used_at FROM api_keys WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM touched)`,
      [id, resolutionMs / 1000],
    );
    return rows[0]?.last_used_at ?? null;
  }

  /** Admin keys that still work; run under `lockBootstrap` so replicas starting together agree. */
  async countActiveAdminKeys(manager: EntityManager): Promise<number> {
    const [{ count }] = await manager.query(
      `SELECT count(*)::int AS count FROM api_keys
        WHERE 'admin' = ANY(roles) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    );
    return count;
  }

  async existsByHash(hash: Buffer, manager: EntityManager): Promise<boolean> {
    return (await manager.getRepository(ApiKeyEntity).count({ where: { keyHash: hash } })) > 0;
  }

  /** Serializes first-start bootstrap across replicas for the rest of the transaction. */
  async lockBootstrap(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(72616402)');
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.keys.manager.transaction(work);
  }
}
