import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKeyEntity } from './idempotency-key.entity';

/** The `idempotency_keys` table (migrations/0004): one row per principal and key, kept 24 hours. */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Inserts the key as in progress, held for `holdSeconds`; returns the existing row instead when the key was seen. */
  async claim(manager: EntityManager, principalId: string, key: string, hash: Buffer, holdSeconds: number): Promise<IdempotencyKeyEntity | null> {
    const inserted = await manager.query(
      `INSERT INTO idempotency_keys (principal_id, key, request_hash, state, held_until)
       VALUES ($1, $2, $3, 'in_progress', now() + make_interval(secs => $4))
       ON CONFLICT (principal_id, key) DO NOTHING RETURNING key`,
      [principalId, key, hash, holdSeconds],
    );
    if ((Array.isArray(inserted[0]) ? inserted[0] : inserted).length > 0) return null;
    return manager.getRepository(IdempotencyKeyEntity).findOne({ where: { principalId, key } });
  }

  /**
   * An in-progress key whose holder stopped renewing it (its process died) is taken over by this request:
   * answers the action the dead request had recorded (null when none), or undefined when the key is still held.
   * Rows from before holds were renewed (no `held_until`) are taken over after `legacySeconds`.
   */
  async takeOver(
    manager: EntityManager,
    principalId: string,
    key: string,
    hash: Buffer,
    holdSeconds: number,
    legacySeconds: number,
  ): Promise<{ actionId: string | null } | undefined> {
    const rows = await manager.query(
      `UPDATE idempotency_keys SET created_at = now(), request_hash = $3, held_until = now() + make_interval(secs => $4)
        WHERE principal_id = $1 AND key = $2 AND state = 'in_progress'
          AND (held_until < now() OR (held_until IS NULL AND created_at < now() - make_interval(secs => $5)))
        RETURNING action_id`,
      [principalId, key, hash, holdSeconds, legacySeconds],
    );
    const [row] = (Array.isArray(rows[0]) ? rows[0] : rows) as Array<{ action_id: string | null }>;
    return row ? { actionId: row.action_id } : undefined;
  }

  /** Keeps the key held by the running request (its heartbeat); false once it is no longer in progress. */
  async renewHold(principalId: string, key: string, holdSeconds: number): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE idempotency_keys SET held_until = now() + make_interval(secs => $3) WHERE principal_id = $1 AND key = $2 AND state = 'in_progress' RETURNING key`,
      [principalId, key, holdSeconds],
    );
    return (Array.isArray(rows[0]) ? rows[0] : rows).length > 0;
  }

  async complete(principalId: string, key: string, status: number, body: unknown, headers: Record<string, string>): Promise<void> {
    await this.dataSource
      .getRepository(IdempotencyKeyEntity)
      .update({ principalId, key }, { state: 'completed', responseStatus: status, responseBody: body as never, responseHeaders: headers });
  }

  /** Completed rows whose answer is sealed under another encryption key than `keyId`. */
  findSealedWithOtherKey(keyId: string, limit: number): Promise<IdempotencyKeyEntity[]> {
    return this.dataSource
      .getRepository(IdempotencyKeyEntity)
      .createQueryBuilder('k')
      .where("k.response_body->'sealed'->>'keyId' <> :keyId", { keyId })
      .limit(limit)
      .getMany();
  }

  async replaceResponseBody(principalId: string, key: string, body: unknown): Promise<void> {
    await this.dataSource.getRepository(IdempotencyKeyEntity).update({ principalId, key }, { responseBody: body as never });
  }

  /** Keys are kept at least 24 hours (ARCHITECTURE.md §4.4); older ones go. */
  async deleteExpired(olderThanHours: number): Promise<void> {
    await this.dataSource.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, [olderThanHours]);
  }

  /** A request that failed before it changed anything frees its key, so the caller may retry. */
  async release(principalId: string, key: string): Promise<void> {
    await this.dataSource.getRepository(IdempotencyKeyEntity).delete({ principalId, key, state: 'in_progress' });
  }
}
