import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/paging';
import { problems } from '../common/problem';
import { ApiKeyEntity } from './api-key.entity';
import { displayPrefix, generateApiKey, hashApiKey, sameHash } from './api-key-secret';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';
import type { Principal } from './principal';
import type { Role } from './roles';

/** `lastUsedAt` is written at most this often per key, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

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

export function describePrincipal(principal: Principal): string {
  return `${principal.type}:${principal.id} (${principal.name})`;
}

@Injectable()
export class ApiKeysService {
  constructor(private readonly repository: ApiKeysRepository) {}

  async create(input: CreateApiKeyDto, createdBy: string, manager?: EntityManager): Promise<CreatedApiKeyResponse> {
    const key = generateApiKey();
    const saved = await this.store(key, { name: input.name, roles: input.roles, tenantIds: input.tenantIds ?? null, expiresAt: input.expiresAt ?? null }, createdBy, manager);
    return { ...toApiKeyResponse(saved), key };
  }

  /** Stores a key the caller already has (bootstrap from `CORDON_BOOTSTRAP_ADMIN_KEY`). */
  store(key: string, input: { name: string; roles: Role[]; tenantIds: string[] | null; expiresAt: Date | null }, createdBy: string, manager?: EntityManager) {
    return this.repository.insert({ ...input, keyPrefix: displayPrefix(key), keyHash: hashApiKey(key), createdBy }, manager);
  }

  async list(query: PageQueryDto): Promise<Page<ApiKeyResponse>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await this.repository.listPage(query.limit, after && { createdAt: after[0], id: after[1] });
    return toPage(rows, query.limit, (k) => [k.createdAt.toISOString(), k.id], toApiKeyResponse);
  }

  async revoke(id: string, by: Principal): Promise<void> {
    const existing = await this.repository.findById(id);
    if (!existing) throw problems.notFound(`API key ${id} does not exist.`);
    if (existing.revokedAt) return; // revoking twice is a no-op: the key is revoked either way
    await this.repository.revoke(id, describePrincipal(by));
  }

  /** The principal for a presented key, or a 401 problem saying why not. */
  async authenticate(key: string): Promise<Principal> {
    const hash = hashApiKey(key);
    const found = await this.repository.findByHash(hash);
    if (!found || !sameHash(found.keyHash, hash)) throw problems.invalidCredential('The API key is not valid.');
    if (found.revokedAt) throw problems.invalidCredential('The API key has been revoked.');
    if (found.expiresAt && found.expiresAt.getTime() <= Date.now()) throw problems.invalidCredential('The API key has expired.');
    if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.repository.touch(found.id);
    }
    return { type: 'apiKey', id: found.id, name: found.name, roles: found.roles, tenantIds: found.tenantIds };
  }
}
