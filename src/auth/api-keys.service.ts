import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { AuditActor, AuditContext } from '../audit-log/audit-entry';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/paging';
import { problems } from '../common/problem';
import { ApiKeyCache } from './api-key-cache';
import { ApiKeyEntity } from './api-key.entity';
import { displayPrefix, generateApiKey, hashApiKey, sameHash } from './api-key-secret';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';
import type { Principal } from '../access/principal';
import type { Role } from '../access/roles';

/**
 * `lastUsedAt` is written at most this often per key (the database skips the write when the stored value
 * is younger, whichever replica wrote it), so authentication is not a write per request: the stored
 * value is at most about this much older than the key's latest use.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** After an attempt the database declined, the next is at least this much later (its clock may lag ours). */
export const LAST_USED_RETRY_MS = 10_000;

export function toApiKeyResponse(key: ApiKeyEntity): ApiKeyResponse {
  return {
    id: key.id,
    name: key.name,
    prefix: key.keyPrefix,
    roles: key.roles,
    tenantIds: key.tenantIds,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}

export function describeActor(actor: AuditActor): string {
  return `${actor.type}:${actor.id} (${actor.name})`;
}

export interface NewApiKey {
  name: string;
  roles: Role[];
  tenantIds: string[] | null;
  expiresAt: Date | null;
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly auditLog: AuditLogService,
    private readonly cache: ApiKeyCache,
  ) {}

  async create(input: CreateApiKeyDto, context: AuditContext): Promise<CreatedApiKeyResponse> {
    const key = generateApiKey();
    const fields = {
      name: input.name,
      roles: input.roles,
      tenantIds: input.tenantIds?.map((t) => t.toLowerCase()) ?? null,
      expiresAt: input.expiresAt ?? null,
    };
    const saved = await this.repository.transaction((manager) => this.store(key, fields, context.actor, context.requestId, manager));
    return { ...toApiKeyResponse(saved), key };
  }

  /**
   * Stores a key and its `api-key.created` audit entry in the caller's transaction. Also used for keys
   * the caller already has (bootstrap from `CORDON_BOOTSTRAP_ADMIN_KEY`, the CLI).
   */
  async store(key: string, input: NewApiKey, actor: AuditActor, requestId: string, manager: EntityManager): Promise<ApiKeyEntity> {
    const saved = await this.repository.insert({ ...input, keyPrefix: displayPrefix(key), keyHash: hashApiKey(key), createdBy: describeActor(actor) }, manager);
    await this.auditLog.append(manager, {
      event: 'api-key.created',
      actor,
      subject: `api-key:${saved.id}`,
      requestId,
      data: { keyId: saved.id, name: saved.name, prefix: saved.keyPrefix, roles: saved.roles, tenantIds: saved.tenantIds, expiresAt: saved.expiresAt },
    });
    return saved;
  }

  async list(query: PageQueryDto): Promise<Page<ApiKeyResponse>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await this.repository.listPage(query.limit, after && { createdAt: after[0], id: after[1] });
    return toPage(rows, query.limit, (k) => [k.createdAt.toISOString(), k.id], toApiKeyResponse);
  }

  async revoke(id: string, context: AuditContext): Promise<void> {
    await this.repository.transaction(async (manager) => {
      const existing = await this.repository.findById(id, manager);
      if (!existing) throw problems.notFound(`API key ${id} does not exist.`);
      if (existing.revokedAt) return; // revoking twice is a no-op: the key is revoked either way
      await this.repository.revoke(id, describeActor(context.actor), manager);
      await this.auditLog.append(manager, {
        event: 'api-key.revoked',
        actor: context.actor,
        subject: `api-key:${id}`,
        requestId: context.requestId,
        data: { keyId: id, name: existing.name, prefix: existing.keyPrefix },
      });
    });
    // This process refuses the key from the next request on; the other replicas hear of it through the
    // notification the revoking transaction sent (migrations/0020_api_key_invalidation.sql).
    this.cache.invalidate(id);
  }

  /** The key with this hash: from the cache, else from the database (and then cached; misses never are). */
  private async lookup(hash: Buffer): Promise<ApiKeyEntity | null> {
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const ticket = this.cache.begin();
    const found = await this.repository.findByHash(hash);
    if (found) this.cache.put(hash, found, ticket);
    return found;
  }

  /** The principal for a presented key, or a 401 problem saying why not. */
  async authenticate(key: string): Promise<Principal> {
    const hash = hashApiKey(key);
    const found = await this.lookup(hash);
    if (!found || !sameHash(found.keyHash, hash)) throw problems.invalidCredential('The API key is not valid.');
    if (found.revokedAt) throw problems.invalidCredential('The API key has been revoked.');
    const now = Date.now();
    if (found.expiresAt && found.expiresAt.getTime() <= now) throw problems.invalidCredential('The API key has expired.');
    if (!found.lastUsedAt || now - found.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      // set before the write, so concurrent requests with the key do not all write
      found.lastUsedAt = new Date(now);
      const stored = await this.repository.touch(found.id, LAST_USED_RESOLUTION_MS);
      // another replica wrote it less than a minute ago: try again when that value is a minute old, and
      // not before LAST_USED_RETRY_MS (the database's clock decides, and it may be behind this one's)
      if (stored && stored.getTime() < now) found.lastUsedAt = new Date(Math.max(stored.getTime(), now - LAST_USED_RESOLUTION_MS + LAST_USED_RETRY_MS));
    }
    return { type: 'apiKey', id: found.id, name: found.name, roles: found.roles, tenantIds: found.tenantIds };
  }
}
