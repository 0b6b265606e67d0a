import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditContext } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import type { Principal } from '../access/principal';
import { assertTenantAccess, canAccessTenant } from '../access/tenant-scope';
import { decodeCursor, Page, PageQueryDto, toPage } from '../common/paging';
import { Problem, problems } from '../common/problem';
import { JobsService } from '../jobs/jobs.service';
import { describeCertificate, TokenProvider, type CloudName, type TenantCredentials } from '../microsoft';
import { describeActor } from '../auth/api-keys.service';
import { CredentialVault, TenantCredential } from './credential-vault';
import { CreateTenantDto, CredentialDto, PrivilegedAppDto, PrivilegedAppView, TenantResponse, UpdateTenantDto } from './dto/tenant.dto';
import { KeyRotationService } from './key-rotation.service';
import { TenantEntity, TenantPrivilegedAppEntity } from './tenant.entity';
import { TenantsRepository, type TenantGuardrails } from './tenants.repository';

export const PROBE_QUEUE = 'tenants.probe';

/** What the vault binds a privileged app's credential to (never the main credential's binding: they cannot be swapped). */
const privilegedBinding = (tenantRowId: string): string => `${tenantRowId}/privileged`;

function credentialView(type: 'secret' | 'certificate', thumbprint: string | null, expiresAt: Date | null) {
  return { type, ...(thumbprint ? { thumbprint } : {}), ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) };
}

function toPrivilegedAppView(app: TenantPrivilegedAppEntity): PrivilegedAppView {
  return {
    clientId: app.clientId,
    credential: credentialView(app.credentialType, app.certificateThumbprint, app.certificateExpiresAt),
    updatedBy: app.updatedBy,
    updatedAt: app.updatedAt.toISOString(),
  };
}

export function toTenantResponse(t: TenantEntity, privileged: TenantPrivilegedAppEntity | null = null): TenantResponse {
  return {
    id: t.id,
    displayName: t.displayName,
    tenantId: t.microsoftTenantId,
    cloud: t.cloud,
    clientId: t.clientId,
    credential: credentialView(t.credentialType, t.certificateThumbprint, t.certificateExpiresAt),
    privilegedApp: privileged && toPrivilegedAppView(privileged),
    enabled: t.enabled,
    connection: { status: t.connectionStatus, detail: t.connectionDetail, checkedAt: t.connectionCheckedAt?.toISOString() ?? null },
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/** What the audit log may say about a credential: its kind and public certificate facts, never the secret. */
function credentialFacts(credential: TenantCredential) {
  if (credential.type === 'secret') return { type: 'secret' as const };
  const info = describeCertificate(credential.certificatePem);
  return { type: 'certificate' as const, thumbprint: info.thumbprintSha1, expiresAt: info.notAfter.toISOString() };
}

function toCredential(dto: CredentialDto): TenantCredential {
  if (dto.type === 'secret') return { type: 'secret', secret: dto.secret! };
  try {
    describeCertificate(dto.certificatePem!);
  } catch {
    throw problems.validation([{ field: 'credential.certificatePem', message: 'certificatePem is not a readable X.509 certificate' }]);
  }
  return { type: 'certificate', certificatePem: dto.certificatePem!, privateKeyPem: dto.privateKeyPem! };
}

/**
 * The tenant registry. Credentials are sealed by the vault before they reach the database and are
 * opened only to hand them to the Microsoft layer. Every change is audited in its own transaction.
 */
@Injectable()
export class TenantsService implements OnModuleInit {
  constructor(
    private readonly repository: TenantsRepository,
    private readonly vault: CredentialVault,
    private readonly auditLog: AuditLogService,
    private readonly jobs: JobsService,
    private readonly tokens: TokenProvider,
    private readonly keyRotation: KeyRotationService,
  ) {}

  onModuleInit(): void {
    this.keyRotation.register({ name: 'privileged app credentials', resealAll: (keyId) => this.resealPrivilegedApps(keyId) });
  }

  async create(input: CreateTenantDto, context: AuditContext): Promise<TenantResponse> {
    const credential = toCredential(input.credential);
    const facts = credentialFacts(credential);
    const tenant = await this.repository.transaction(async (manager) => {
      const existing = await this.repository.findLiveByMicrosoftApp(manager, input.tenantId.toLowerCase(), input.clientId.toLowerCase());
      if (existing)
        throw new Problem(
          409,
          'tenant-exists',
          'Tenant already registered',
          `This app is already registered for Microsoft tenant ${input.tenantId} as ${existing.id}.`,
          { existingId: existing.id },
        );
      const id = this.repository.newId();
      const saved = await this.repository.insert(manager, {
        id,
        displayName: input.displayName,
        microsoftTenantId: input.tenantId.toLowerCase(),
        cloud: input.cloud,
        clientId: input.clientId.toLowerCase(),
        ...this.sealedColumns(id, credential),
        createdBy: describeActor(context.actor),
      });
      await this.auditLog.append(manager, {
        event: 'tenant.created',
        actor: context.actor,
        tenantId: id,
        subject: `tenant:${id}`,
        requestId: context.requestId,
        data: { displayName: saved.displayName, microsoftTenantId: saved.microsoftTenantId, cloud: saved.cloud, clientId: saved.clientId, credential: facts },
      });
      // The connection test and capability probe start at once, with the tenant (no phantom job if this rolls back).
      await this.jobs.send(PROBE_QUEUE, { tenantId: id, requestId: context.requestId }, { singletonKey: id }, manager);
      return saved;
    });
    return toTenantResponse(tenant);
  }

  async list(principal: Principal, query: PageQueryDto): Promise<Page<TenantResponse>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await this.repository.listPage(query.limit, principal.tenantIds, after && { createdAt: after[0], id: after[1] });
    const privileged = await this.repository.privilegedApps(rows.slice(0, query.limit).map((t) => t.id));
    return toPage(
      rows,
      query.limit,
      (t) => [t.createdAt.toISOString(), t.id],
      (t) => toTenantResponse(t, privileged.get(t.id) ?? null),
    );
  }

  async get(principal: Principal, id: string): Promise<TenantResponse> {
    const tenant = await this.findVisible(principal, id);
    return toTenantResponse(tenant, await this.repository.privilegedApp(id));
  }

  /** A live tenant the principal may see, else 404 (a tenant outside a key's list does not exist for it). */
  async findVisible(principal: Principal, id: string): Promise<TenantEntity> {
    assertTenantAccess(principal, id);
    const tenant = await this.repository.findLive(id);
    if (!tenant) throw problems.notFound(`Tenant ${id} does not exist.`);
    return tenant;
  }

  /** findVisible, with the tenant's policy and capabilities read in the same query (action admission). */
  async findVisibleWithGuardrails(principal: Principal, id: string): Promise<TenantGuardrails> {
    assertTenantAccess(principal, id);
    const found = await this.repository.findLiveWithGuardrails(id);
    if (!found) throw problems.notFound(`Tenant ${id} does not exist.`);
    return found;
  }

  async update(principal: Principal, id: string, input: UpdateTenantDto, context: AuditContext): Promise<TenantResponse> {
    if (!canAccessTenant(principal, id)) throw problems.notFound(`Tenant ${id} does not exist.`);
    const credential = input.credential ? toCredential(input.credential) : undefined;
    const updated = await this.repository.transaction(async (manager) => {
      const tenant = await this.lockLive(manager, id);
      const changes: Partial<TenantEntity> = {};
      const changed: Record<string, unknown> = {};
      if (input.displayName !== undefined && input.displayName !== tenant.displayName) {
        changes.displayName = input.displayName;
        changed.displayName = { from: tenant.displayName, to: input.displayName };
      }
      if (input.enabled !== undefined && input.enabled !== tenant.enabled) {
        changes.enabled = input.enabled;
        changed.enabled = { from: tenant.enabled, to: input.enabled };
      }
      if (credential) {
        const facts = credentialFacts(credential);
        Object.assign(changes, {
          ...this.sealedColumns(id, credential),
          connectionStatus: 'pending',
          connectionDetail: null,
        });
        changed.credential = { rotated: true, ...facts };
      }
      if (Object.keys(changes).length === 0) return tenant;
      await this.repository.update(manager, id, changes);
      await this.auditLog.append(manager, {
        event: 'tenant.updated',
        actor: context.actor,
        tenantId: id,
        subject: `tenant:${id}`,
        requestId: context.requestId,
        data: { changed },
      });
      if (credential) await this.jobs.send(PROBE_QUEUE, { tenantId: id, requestId: context.requestId }, {}, manager);
      return (await this.repository.findLive(id, manager))!;
    });
    if (credential) this.tokens.forget({ tenantId: updated.microsoftTenantId, clientId: updated.clientId, cloud: updated.cloud as CloudName });
    return toTenantResponse(updated, await this.repository.privilegedApp(id));
  }

  /**
   * Sets (or replaces) the tenant's privileged app registration: a second app in the same Microsoft tenant
   * that holds the permissions letting an app grant itself more. Its credential is sealed like the main one;
   * the change is audited (facts, never the secret) and the tenant is probed again.
   */
  async setPrivilegedApp(principal: Principal, id: string, input: PrivilegedAppDto, context: AuditContext): Promise<TenantResponse> {
    if (!canAccessTenant(principal, id)) throw problems.notFound(`Tenant ${id} does not exist.`);
    const credential = toCredential(input.credential);
    const facts = credentialFacts(credential);
    const clientId = input.clientId.toLowerCase();
    const { tenant, previous } = await this.repository.transaction(async (manager) => {
      const tenant = await this.lockLive(manager, id);
      if (tenant.clientId === clientId)
        throw problems.validation([
          { field: 'clientId', message: 'the privileged app must be a second app registration, not the one the tenant is registered with' },
        ]);
      const previous = await this.repository.privilegedApp(id, manager);
      await this.repository.savePrivilegedApp(manager, {
        tenantId: id,
        clientId,
        ...this.sealedColumns(privilegedBinding(id), credential),
        updatedBy: describeActor(context.actor),
      });
      await this.auditLog.append(manager, {
        event: 'tenant.privileged-app.set',
        actor: context.actor,
        tenantId: id,
        subject: `tenant:${id}`,
        requestId: context.requestId,
        data: { clientId, credential: facts, replaced: previous ? { clientId: previous.clientId } : null },
      });
      await this.jobs.send(PROBE_QUEUE, { tenantId: id, requestId: context.requestId }, {}, manager);
      return { tenant, previous };
    });
    const cloud = tenant.cloud as CloudName;
    if (previous) this.tokens.forget({ tenantId: tenant.microsoftTenantId, clientId: previous.clientId, cloud });
    this.tokens.forget({ tenantId: tenant.microsoftTenantId, clientId, cloud });
    return toTenantResponse(tenant, await this.repository.privilegedApp(id));
  }

  /** Removes the privileged app registration: its capabilities are then probed, and run, with the main app. */
  async removePrivilegedApp(principal: Principal, id: string, context: AuditContext): Promise<void> {
    if (!canAccessTenant(principal, id)) throw problems.notFound(`Tenant ${id} does not exist.`);
    const { tenant, previous } = await this.repository.transaction(async (manager) => {
      const tenant = await this.lockLive(manager, id);
      const previous = await this.repository.privilegedApp(id, manager);
      if (!previous) throw problems.notFound(`Tenant ${id} has no privileged app registration.`);
      await this.repository.deletePrivilegedApp(manager, id);
      await this.auditLog.append(manager, {
        event: 'tenant.privileged-app.removed',
        actor: context.actor,
        tenantId: id,
        subject: `tenant:${id}`,
        requestId: context.requestId,
        data: { clientId: previous.clientId },
      });
      await this.jobs.send(PROBE_QUEUE, { tenantId: id, requestId: context.requestId }, {}, manager);
      return { tenant, previous };
    });
    this.tokens.forget({ tenantId: tenant.microsoftTenantId, clientId: previous.clientId, cloud: tenant.cloud as CloudName });
  }

  /** Disables collection and actions for good; the tenant's history (audit log, events) is kept. */
  async remove(principal: Principal, id: string, context: AuditContext): Promise<void> {
    if (!canAccessTenant(principal, id)) throw problems.notFound(`Tenant ${id} does not exist.`);
    await this.repository.transaction(async (manager) => {
      const tenant = await this.lockLive(manager, id);
      await this.repository.update(manager, id, { enabled: false, deletedAt: new Date() });
      await this.auditLog.append(manager, {
        event: 'tenant.deleted',
        actor: context.actor,
        tenantId: id,
        subject: `tenant:${id}`,
        requestId: context.requestId,
        data: { displayName: tenant.displayName },
      });
    });
  }

  /** Live, enabled tenants (collection schedules, daily probes). */
  listEnabled(): Promise<TenantEntity[]> {
    return this.repository.listEnabled();
  }

  /** A live tenant by id with no access check (for jobs that run as the system). */
  findLive(id: string): Promise<TenantEntity | null> {
    return this.repository.findLive(id);
  }

  /** Decrypted credentials for the Microsoft layer (never returned over HTTP, never logged). */
  credentialsOf(tenant: TenantEntity): TenantCredentials {
    return {
      tenantId: tenant.microsoftTenantId,
      clientId: tenant.clientId,
      cloud: tenant.cloud as CloudName,
      credential: this.vault.open(tenant.id, { ciphertext: tenant.credentialCiphertext, keyId: tenant.credentialKeyId }),
    };
  }

  /**
   * Decrypted credentials of the tenant's privileged app registration (same Microsoft tenant and cloud),
   * or null when it has none.
   */
  async privilegedCredentialsOf(tenant: TenantEntity): Promise<TenantCredentials | null> {
    const app = await this.repository.privilegedApp(tenant.id);
    if (!app) return null;
    return {
      tenantId: tenant.microsoftTenantId,
      clientId: app.clientId,
      cloud: tenant.cloud as CloudName,
      credential: this.vault.open(privilegedBinding(tenant.id), { ciphertext: app.credentialCiphertext, keyId: app.credentialKeyId }),
    };
  }

  /** The columns a credential is stored in (main or privileged app alike): sealed, and its public certificate facts. */
  private sealedColumns(binding: string, credential: TenantCredential) {
    const sealed = this.vault.seal(binding, credential);
    const facts = credentialFacts(credential);
    return {
      credentialType: credential.type,
      credentialCiphertext: sealed.ciphertext,
      credentialKeyId: sealed.keyId,
      certificateThumbprint: facts.type === 'certificate' ? facts.thumbprint : null,
      certificateExpiresAt: facts.type === 'certificate' ? new Date(facts.expiresAt) : null,
    };
  }

  /** Key rotation: re-encrypts every privileged app credential not under `keyId`. */
  private async resealPrivilegedApps(keyId: string): Promise<number> {
    let count = 0;
    for (;;) {
      const batch = await this.repository.privilegedAppsSealedWithOtherKey(keyId, 100);
      if (batch.length === 0) return count;
      await this.repository.transaction(async (manager) => {
        for (const app of batch) {
          const binding = privilegedBinding(app.tenantId);
          const credential = this.vault.open(binding, { ciphertext: app.credentialCiphertext, keyId: app.credentialKeyId });
          await this.repository.resealPrivilegedApp(manager, app.tenantId, this.vault.seal(binding, credential));
        }
        await this.auditLog.append(manager, {
          event: 'encryption-key.rotated',
          actor: { type: 'system', id: 'cli', name: 'rotate-encryption-key' },
          requestId: randomUUID(),
          data: { keyId, privilegedApps: batch.map((app) => app.tenantId) },
        });
      });
      count += batch.length;
    }
  }

  private async lockLive(manager: EntityManager, id: string): Promise<TenantEntity> {
    const tenant = await this.repository.findLive(id, manager);
    if (!tenant) throw problems.notFound(`Tenant ${id} does not exist.`);
    return tenant;
  }
}
