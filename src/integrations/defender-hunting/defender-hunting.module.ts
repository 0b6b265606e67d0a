import { Module } from '@nestjs/common';
import { AuditLogModule } from '../../audit-log/audit-log.module';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { DEFENDER_HUNTING_CAPABILITIES } from './defender-hunting.capabilities';
import { DefenderHuntingCollector } from './defender-hunting.collector';
import { HuntingClient } from './hunting-client';
import { HuntingController } from './hunting.controller';
import { HuntingService } from './hunting.service';

/** Defender XDR Advanced Hunting (microsoft-notes §10): the per-table collector and on-demand hunting, sharing one quota-aware client. */
@Module({
  imports: [AuditLogModule, CollectionModule, MicrosoftModule, TenantsModule],
  controllers: [HuntingController],
  providers: [HuntingClient, DefenderHuntingCollector, HuntingService, registerCapabilities(...DEFENDER_HUNTING_CAPABILITIES)],
})
export class DefenderHuntingModule {}
