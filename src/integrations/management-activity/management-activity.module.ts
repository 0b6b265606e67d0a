import { Module } from '@nestjs/common';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { MANAGEMENT_ACTIVITY_CAPABILITIES } from './management-activity.capabilities';
import { ManagementActivityCollector } from './management-activity.collector';

/** The Office 365 Management Activity API collector (it registers itself with the collection engine) and its capabilities. */
@Module({
  imports: [CollectionModule, MicrosoftModule, TenantsModule],
  providers: [ManagementActivityCollector, registerCapabilities(MANAGEMENT_ACTIVITY_CAPABILITIES)],
})
export class ManagementActivityModule {}
