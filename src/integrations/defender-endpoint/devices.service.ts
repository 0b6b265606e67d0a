import { Injectable } from '@nestjs/common';
import type { Principal } from '../../access/principal';
import { decodeCursor, Page, toPage } from '../../common/paging';
import { TenantsService } from '../../tenants/tenants.service';
import type { DeviceEntity } from './device.entity';
import { DevicesRepository } from './devices.repository';
import type { DeviceQueryDto, DeviceResponse } from './dto/device.dto';

const iso = (d: Date | null) => d?.toISOString() ?? null;

function toDeviceResponse(d: DeviceEntity): DeviceResponse {
  return {
    machineId: d.machineId,
    computerDnsName: d.computerDnsName,
    aadDeviceId: d.aadDeviceId,
    osPlatform: d.osPlatform,
    osVersion: d.osVersion,
    healthStatus: d.healthStatus,
    onboardingStatus: d.onboardingStatus,
    riskScore: d.riskScore,
    exposureLevel: d.exposureLevel,
    lastIpAddress: d.lastIpAddress,
    machineTags: d.machineTags,
    firstSeen: iso(d.firstSeen),
    lastSeen: iso(d.lastSeen),
    syncedAt: d.syncedAt.toISOString(),
  };
}

/** Reads of the device inventory (`GET /v1/tenants/{id}/devices`). */
@Injectable()
export class DevicesService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly devices: DevicesRepository,
  ) {}

  async list(principal: Principal, tenantId: string, query: DeviceQueryDto): Promise<Page<DeviceResponse>> {
    await this.tenants.findVisible(principal, tenantId);
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await this.devices.page(tenantId, query.limit, query.name, after && { name: after[0], machineId: after[1] });
    return toPage(rows, query.limit, (d) => [(d.computerDnsName ?? '').toLowerCase(), d.machineId], toDeviceResponse);
  }
}
