import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { JobsService } from '../../jobs/jobs.service';
import { TenantCapabilitiesService } from '../../tenants/tenant-capabilities.service';
import { TenantsService } from '../../tenants/tenants.service';
import { DefenderClient } from './defender-client';
import { DevicesRepository } from './devices.repository';

export const INVENTORY_SYNC_QUEUE = 'defender.inventory-sync';
const INVENTORY_SCHEDULE_QUEUE = 'defender.inventory-schedule';
/** The capability that says the tenant's Defender machine API answers us (defender-endpoint.capabilities.ts). */
export const MACHINES_CAPABILITY = 'defender-machines';

/**
 * The device inventory: every few minutes a scheduler enqueues one sync per enabled tenant whose
 * Defender machine API is available, at most one per tenant per interval; a sync lists all machines
 * (microsoft-notes §5.2) and upserts them. Machines Defender no longer lists stay, marked by their old sync time.
 */
@Injectable()
export class DeviceInventoryService implements OnModuleInit {
  private readonly logger = new Logger(DeviceInventoryService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly tenants: TenantsService,
    private readonly capabilities: TenantCapabilitiesService,
    private readonly client: DefenderClient,
    private readonly devices: DevicesRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.register<{ tenantId: string }>({
      name: INVENTORY_SYNC_QUEUE,
      options: { retryLimit: 3, retryDelay: 60, retryBackoff: true },
      concurrency: 2,
      handle: async ({ tenantId }) => {
        await this.sync(tenantId);
      },
    });
    this.jobs.register({
      name: INVENTORY_SCHEDULE_QUEUE,
      cron: '*/5 * * * *',
      handle: async () => this.scheduleDue(),
    });
  }

  /** Enqueues a sync for each tenant with the capability; pg-boss keeps one per tenant per interval. */
  async scheduleDue(): Promise<void> {
    const seconds = this.config.defenderEndpoint.inventoryIntervalMinutes * 60;
    for (const tenant of await this.tenants.listEnabled()) {
      if ((await this.capabilities.statusOf(tenant.id, MACHINES_CAPABILITY))?.status !== 'available') continue;
      await this.jobs.send(INVENTORY_SYNC_QUEUE, { tenantId: tenant.id }, { singletonKey: tenant.id, singletonSeconds: seconds });
    }
  }

  /** Lists the tenant's machines at Defender and stores them; answers how many. */
  async sync(tenantId: string): Promise<number> {
    const tenant = await this.tenants.findLive(tenantId);
    if (!tenant?.enabled) return 0;
    if ((await this.capabilities.statusOf(tenantId, MACHINES_CAPABILITY))?.status !== 'available') return 0;
    const machines = await this.client.machines(tenantId);
    await this.devices.upsert(tenantId, machines);
    this.logger.log({ tenantId, machines: machines.length }, 'device inventory synced');
    return machines.length;
  }
}
