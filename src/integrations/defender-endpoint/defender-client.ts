import { Injectable } from '@nestjs/common';
import { StepError } from '../../actions/action-handler';
import { MicrosoftApiError, MicrosoftHttp, type MicrosoftRequest, type TenantCredentials } from '../../microsoft';
import { TenantsService } from '../../tenants/tenants.service';
import { DefenderPacer } from './defender-pacer';
import type { DefenderMachine, MachineAction } from './defender-types';

type Call = Omit<MicrosoftRequest, 'tenant' | 'resource'>;

/** OData string literal: single quotes doubled (microsoft-notes §5.2 examples). */
export const odataString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * The Defender for Endpoint API of one tenant, on its cloud's host (microsoft-notes §0.1, §5), every call
 * paced per API (DefenderPacer). The API names are the rate-limit buckets: one per documented API.
 */
@Injectable()
export class DefenderClient {
  constructor(
    private readonly http: MicrosoftHttp,
    private readonly tenants: TenantsService,
    private readonly pacer: DefenderPacer,
  ) {}

  async credentials(tenantId: string): Promise<TenantCredentials> {
    const tenant = await this.tenants.findLive(tenantId);
    if (!tenant) throw new StepError('tenant-not-found', `Tenant ${tenantId} no longer exists.`);
    return this.tenants.credentialsOf(tenant);
  }

  /** One call; `booked` when the caller already holds a slot for it (response actions). */
  async call<T>(tenantId: string, api: string, call: Call, booked = false): Promise<{ body: T; requestId?: string }> {
    const tenant = await this.credentials(tenantId);
    if (!booked) await this.pacer.acquire(tenantId, api);
    const response = await this.http.request<T>({ tenant, resource: 'defender', ...call });
    return { body: response.body, requestId: response.requestId };
  }

  /** Every machine matching the filter, following `@odata.nextLink`; none is a 404 (microsoft-notes M19), read as empty. */
  async machines(tenantId: string, filter?: string): Promise<DefenderMachine[]> {
    const out: DefenderMachine[] = [];
    let url = '/api/machines';
    let query: Record<string, string> | undefined = { $top: '10000', ...(filter ? { $filter: filter } : {}) };
    try {
      for (;;) {
        const { body } = await this.call<{ value: DefenderMachine[]; '@odata.nextLink'?: string }>(tenantId, 'machines', { url, query });
        out.push(...(body.value ?? []));
        if (!body['@odata.nextLink']) return out;
        url = body['@odata.nextLink'];
        query = undefined;
      }
    } catch (error) {
      if (error instanceof MicrosoftApiError && error.kind === 'not-found') return out;
      throw error;
    }
  }

  async machine(tenantId: string, machineId: string): Promise<DefenderMachine | null> {
    try {
      return (await this.call<DefenderMachine>(tenantId, 'machines/{id}', { url: `/api/machines/${encodeURIComponent(machineId)}` })).body;
    } catch (error) {
      if (error instanceof MicrosoftApiError && error.kind === 'not-found') return null;
      throw error;
    }
  }

  /** Creates a machine action (`POST /api/machines/{id}/<path>`); the caller booked the slot. */
  submit(tenantId: string, machineId: string, path: string, body: Record<string, unknown>): Promise<{ body: MachineAction; requestId?: string }> {
    return this.call<MachineAction>(tenantId, path, { method: 'POST', url: `/api/machines/${encodeURIComponent(machineId)}/${path}`, body }, true);
  }

  async actions(tenantId: string, filter: string): Promise<MachineAction[]> {
    const { body } = await this.call<{ value: MachineAction[] }>(tenantId, 'machineactions', { url: '/api/machineactions', query: { $filter: filter } });
    return body.value ?? [];
  }

  async action(tenantId: string, id: string): Promise<MachineAction> {
    return (await this.call<MachineAction>(tenantId, 'machineactions/{id}', { url: `/api/machineactions/${encodeURIComponent(id)}` })).body;
  }

  cancel(tenantId: string, id: string, comment: string): Promise<{ body: MachineAction; requestId?: string }> {
    return this.call<MachineAction>(tenantId, 'cancel', {
      method: 'POST',
      url: `/api/machineactions/${encodeURIComponent(id)}/cancel`,
      body: { Comment: comment },
    });
  }

  /** The investigation package's short-lived download link (get-package-sas-uri). */
  async packageUri(tenantId: string, id: string): Promise<string> {
    const { body } = await this.call<{ value: string }>(tenantId, 'GetPackageUri', { url: `/api/machineactions/${encodeURIComponent(id)}/GetPackageUri` });
    // The doc's sample wraps the link in literal quotes; accept both.
    return String(body.value).replace(/^"|"$/g, '');
  }
}
