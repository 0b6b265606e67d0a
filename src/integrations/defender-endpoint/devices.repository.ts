import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DefenderMachine } from './defender-types';
import { DeviceEntity } from './device.entity';

const date = (v: string | null | undefined) => (v ? new Date(v) : null);

/** The device inventory (table `devices`). */
@Injectable()
export class DevicesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts or refreshes machines as Defender reported them just now. */
  async upsert(tenantId: string, machines: DefenderMachine[]): Promise<void> {
    const rows = machines.map((m) => ({
      tenantId,
      machineId: m.id.toLowerCase(),
      computerDnsName: m.computerDnsName ?? null,
      aadDeviceId: m.aadDeviceId ?? null,
      osPlatform: m.osPlatform ?? null,
      osVersion: m.version ?? null,
      healthStatus: m.healthStatus ?? null,
      onboardingStatus: m.onboardingStatus ?? null,
      riskScore: m.riskScore ?? null,
      exposureLevel: m.exposureLevel ?? null,
      lastIpAddress: m.lastIpAddress ?? null,
      machineTags: Array.isArray(m.machineTags) ? m.machineTags.map(String) : [],
      firstSeen: date(m.firstSeen),
      lastSeen: date(m.lastSeen),
      raw: m as Record<string, unknown>,
      syncedAt: () => 'now()',
    }));
    for (let i = 0; i < rows.length; i += 500) {
      await this.dataSource.getRepository(DeviceEntity).upsert(rows.slice(i, i + 500) as never, ['tenantId', 'machineId']);
    }
  }

  /**
   * Devices `requested` may name: a machine id or an Entra device id (exact, case-insensitive), a DNS
   * name (exact, case-insensitive), or a short name matching a DNS name's first label.
   */
  findMatches(tenantId: string, requested: string): Promise<DeviceEntity[]> {
    const wanted = requested.toLowerCase();
    return this.dataSource
      .getRepository(DeviceEntity)
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId', { tenantId })
      .andWhere(
        `(d.machine_id = :wanted OR lower(d.aad_device_id) = :wanted OR lower(d.computer_dns_name) = :wanted
          OR (strpos(:wanted, '.') = 0 AND lower(split_part(d.computer_dns_name, '.', 1)) = :wanted))`,
        { wanted },
      )
      .orderBy('d.last_seen', 'DESC', 'NULLS LAST')
      .addOrderBy('d.machine_id')
      .getMany();
  }

  /** A page of the inventory, by DNS name then machine id; `name` matches as in findMatches or as a prefix of the DNS name. */
  page(tenantId: string, limit: number, name?: string, after?: { name: string; machineId: string }): Promise<DeviceEntity[]> {
    const q = this.dataSource
      .getRepository(DeviceEntity)
      .createQueryBuilder('d')
      .where('d.tenant_id = :tenantId', { tenantId })
      .orderBy(`coalesce(lower(d.computer_dns_name), '')`, 'ASC')
      .addOrderBy('d.machine_id', 'ASC')
      .limit(limit + 1);
    if (name) q.andWhere(`lower(d.computer_dns_name) LIKE :prefix ESCAPE '\\'`, { prefix: `${name.toLowerCase().replace(/[\\%_]/g, '\\$&')}%` });
    if (after)
      q.andWhere(`(coalesce(lower(d.computer_dns_name), ''), d.machine_id) > (:afterName, :afterId)`, { afterName: after.name, afterId: after.machineId });
    return q.getMany();
  }
}
