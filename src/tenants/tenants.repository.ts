import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, In, IsNull, Not } from 'typeorm';
import { TenantCapabilityEntity, TenantEntity, TenantPolicyEntity, TenantPrivilegedAppEntity } from './tenant.entity';

export interface TenantGuardrails {
  tenant: TenantEntity;
  policy: TenantPolicyEntity | null;
  capabilities: TenantCapabilityEntity[];
}

@Injectable()
export class TenantsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  newId(): string {
    return randomUUID();
  }

  insert(
    manager: EntityManager,
    tenant: Omit<TenantEntity, 'createdAt' | 'updatedAt' | 'deletedAt' | 'connectionStatus' | 'connectionDetail' | 'connectionCheckedAt' | 'enabled'>,
  ): Promise<TenantEntity> {
    const repository = manager.getRepository(TenantEntity);
    return repository.save(
      repository.create({ ...tenant, enabled: true, connectionStatus: 'pending', connectionDetail: null, connectionCheckedAt: null, deletedAt: null }),
    );
  }

  async findLiveByMicrosoftApp(manager: EntityManager, microsoftTenantId: string, clientId: string): Promise<TenantEntity | null> {
    return manager.getRepository(TenantEntity).findOne({ where: { microsoftTenantId, clientId, deletedAt: IsNull() } });
  }

  /** A live (not deleted) tenant; with a manager the row is locked for the transaction. */
  findLive(id: string, manager?: EntityManager): Promise<TenantEntity | null> {
    const repository = (manager ?? this.dataSource.manager).getRepository(TenantEntity);
    return repository.findOne({ where: { id, deletedAt: IsNull() }, ...(manager ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  /**
   * A live tenant with its policy (null when none was set) and capability rows, in one query: what an
   * action's admission reads on its hot path.
   */
  async findLiveWithGuardrails(id: string): Promise<TenantGuardrails | null> {
    const row = (await this.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder('tenant')
      .leftJoinAndMapOne('tenant.policy', TenantPolicyEntity, 'policy', 'policy.tenant_id = tenant.id')
      .leftJoinAndMapMany('tenant.capabilities', TenantCapabilityEntity, 'capability', 'capability.tenant_id = tenant.id')
      .where('tenant.id = :id AND tenant.deleted_at IS NULL', { id })
      .orderBy('capability.capability', 'ASC')
      .getOne()) as (TenantEntity & Partial<Omit<TenantGuardrails, 'tenant'>>) | null;
    if (!row) return null;
    const { policy, capabilities, ...tenant } = row;
    return { tenant: Object.assign(new TenantEntity(), tenant), policy: policy ?? null, capabilities: capabilities ?? [] };
  }

  /** Live tenants, oldest first, keyset on (created_at, id), optionally limited to some ids. */
  listPage(limit: number, onlyIds: string[] | null, after?: { createdAt: string; id: string }): Promise<TenantEntity[]> {
    const query = this.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder('t')
      .where('t.deleted_at IS NULL')
      .orderBy('t.created_at', 'ASC')
      .addOrderBy('t.id', 'ASC')
      .limit(limit + 1);
    if (onlyIds) query.andWhere('t.id IN (:...ids)', { ids: onlyIds.length ? onlyIds : ['00000000-0000-0000-0000-000000000000'] });
    if (after) {
      query.andWhere(
        new Brackets((q) =>
          q.where('t.created_at > :at', { at: after.createdAt }).orWhere('t.created_at = :at AND t.id > :id', { at: after.createdAt, id: after.id }),
        ),
      );
    }
    return query.getMany();
  }

  listEnabled(): Promise<TenantEntity[]> {
    return this.dataSource.getRepository(TenantEntity).find({ where: { enabled: true, deletedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  /** Enabled live tenants (for the daily probe). */
  listEnabledIds(): Promise<string[]> {
    return this.dataSource
      .getRepository(TenantEntity)
      .find({ select: { id: true }, where: { enabled: true, deletedAt: IsNull() } })
      .then((rows) => rows.map((r) => r.id));
  }

  /** Enabled live tenants whose connection has not been probed since they were registered or their credential changed. */
  listPendingIds(): Promise<string[]> {
    return this.dataSource
      .getRepository(TenantEntity)
      .find({ select: { id: true }, where: { enabled: true, deletedAt: IsNull(), connectionStatus: 'pending' } })
      .then((rows) => rows.map((r) => r.id));
  }

  async update(manager: EntityManager, id: string, changes: Partial<TenantEntity>): Promise<void> {
    await manager.getRepository(TenantEntity).update({ id }, { ...changes, updatedAt: () => 'now()' });
  }

  async setConnection(id: string, status: TenantEntity['connectionStatus'], detail: string | null): Promise<void> {
    await this.dataSource
      .getRepository(TenantEntity)
      .update({ id }, { connectionStatus: status, connectionDetail: detail, connectionCheckedAt: () => 'now()' });
  }

  capabilities(tenantId: string, manager?: EntityManager): Promise<TenantCapabilityEntity[]> {
    return (manager ?? this.dataSource.manager).getRepository(TenantCapabilityEntity).find({ where: { tenantId }, order: { capability: 'ASC' } });
  }

  async replaceCapabilities(manager: EntityManager, tenantId: string, rows: TenantCapabilityEntity[]): Promise<void> {
    const repository = manager.getRepository(TenantCapabilityEntity);
    const keep = rows.map((r) => r.capability);
    if (keep.length)
      await repository.createQueryBuilder().delete().where('tenant_id = :tenantId AND capability NOT IN (:...keep)', { tenantId, keep }).execute();
    await repository.upsert(rows, ['tenantId', 'capability']);
  }

  policy(tenantId: string, manager?: EntityManager): Promise<TenantPolicyEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(TenantPolicyEntity).findOne({ where: { tenantId } });
  }

  async savePolicy(manager: EntityManager, policy: Omit<TenantPolicyEntity, 'updatedAt'>): Promise<TenantPolicyEntity> {
    const repository = manager.getRepository(TenantPolicyEntity);
    await repository.upsert({ ...policy, updatedAt: () => 'now()' } as never, ['tenantId']);
    return (await repository.findOne({ where: { tenantId: policy.tenantId } }))!;
  }

  /** Rows whose credential is sealed under a key other than `keyId` (for key rotation). */
  findSealedWithOtherKey(keyId: string, limit: number): Promise<TenantEntity[]> {
    return this.dataSource.getRepository(TenantEntity).createQueryBuilder('t').where('t.credential_key_id <> :keyId', { keyId }).limit(limit).getMany();
  }

  /** The tenant's privileged app registration, or null. */
  privilegedApp(tenantId: string, manager?: EntityManager): Promise<TenantPrivilegedAppEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(TenantPrivilegedAppEntity).findOne({ where: { tenantId } });
  }

  /** The privileged app registrations of these tenants (one query for a page of tenants). */
  async privilegedApps(tenantIds: string[]): Promise<Map<string, TenantPrivilegedAppEntity>> {
    if (tenantIds.length === 0) return new Map();
    const rows = await this.dataSource.getRepository(TenantPrivilegedAppEntity).find({ where: { tenantId: In(tenantIds) } });
    return new Map(rows.map((r) => [r.tenantId, r]));
  }

  async savePrivilegedApp(manager: EntityManager, app: Omit<TenantPrivilegedAppEntity, 'updatedAt' | 'tenant'>): Promise<void> {
    await manager.getRepository(TenantPrivilegedAppEntity).upsert({ ...app, updatedAt: () => 'now()' } as never, ['tenantId']);
  }

  async deletePrivilegedApp(manager: EntityManager, tenantId: string): Promise<void> {
    await manager.getRepository(TenantPrivilegedAppEntity).delete({ tenantId });
  }

  /** Privileged app credentials sealed under a key other than `keyId` (for key rotation). */
  privilegedAppsSealedWithOtherKey(keyId: string, limit: number): Promise<TenantPrivilegedAppEntity[]> {
    return this.dataSource.getRepository(TenantPrivilegedAppEntity).find({ where: { credentialKeyId: Not(keyId) }, take: limit });
  }

  async resealPrivilegedApp(manager: EntityManager, tenantId: string, sealed: { ciphertext: Buffer; keyId: string }): Promise<void> {
    await manager.getRepository(TenantPrivilegedAppEntity).update({ tenantId }, { credentialCiphertext: sealed.ciphertext, credentialKeyId: sealed.keyId });
  }
}
