import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActionsModule } from '../../actions/actions.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { DEFENDER_ENDPOINT_CAPABILITIES } from './defender-endpoint.capabilities';
import { DefenderClient } from './defender-client';
import { DefenderPacer } from './defender-pacer';
import { DefenderPacerRepository } from './defender-pacer.repository';
import { DeviceActions } from './device-actions';
import { DeviceTags } from './device-tags';
import { LiveResponseResults } from './live-response';
import { DeviceInventoryService } from './device-inventory.service';
import { DeviceResolver } from './device-resolver';
import { DeviceSnapshot } from './device-snapshot';
import { DeviceEntity } from './device.entity';
import { DevicesController } from './devices.controller';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';
import { IndicatorActions } from './indicator-actions';
import { IndicatorClient } from './indicator-client';
import { IndicatorsController } from './indicators.controller';
import { IndicatorsService } from './indicators.service';
import { MachineActionReader } from './machine-action-reader';

/** Defender for Endpoint: the device inventory, the device.* containment actions and the indicator.* actions, paced per tenant and API. */
@Module({
  imports: [TypeOrmModule.forFeature([DeviceEntity]), ActionsModule, TenantsModule, MicrosoftModule],
  controllers: [DevicesController, IndicatorsController],
  providers: [
    DefenderPacerRepository,
    DefenderPacer,
    DefenderClient,
    MachineActionReader,
    DevicesRepository,
    DevicesService,
    DeviceResolver,
    DeviceInventoryService,
    DeviceActions,
    DeviceSnapshot,
    IndicatorClient,
    IndicatorActions,
    IndicatorsService,
    DeviceTags,
    LiveResponseResults,
    registerCapabilities(DEFENDER_ENDPOINT_CAPABILITIES),
  ],
  exports: [DeviceInventoryService],
})
export class DefenderEndpointModule {}
