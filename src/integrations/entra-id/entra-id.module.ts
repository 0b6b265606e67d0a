import { Module } from '@nestjs/common';
import { ActionsModule } from '../../actions/actions.module';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { ENTRA_ID_CAPABILITIES } from './entra-id.capabilities';
import { DirectoryAuditsCollector, RiskDetectionsCollector, SignInsCollector } from './entra-log.collectors';
import { IdentityProtectionPacer } from './identity-protection-pacer';
import { PersistenceActions } from './persistence-actions';
import { PersistenceController } from './persistence.controller';
import { PersistenceReads } from './persistence-reads.service';
import { TenantGraphs } from '../tenant-graphs';
import { UserActions } from './user-actions';
import { UserSnapshot } from './user-snapshot';

/** Entra ID: user containment actions, and the sign-in, directory audit and risk detection collectors. */
@Module({
  imports: [ActionsModule, TenantsModule, MicrosoftModule, CollectionModule],
  controllers: [PersistenceController],
  providers: [
    TenantGraphs,
    UserActions,
    UserSnapshot,
    PersistenceActions,
    PersistenceReads,
    IdentityProtectionPacer,
    SignInsCollector,
    DirectoryAuditsCollector,
    RiskDetectionsCollector,
    registerCapabilities(...ENTRA_ID_CAPABILITIES),
  ],
  exports: [IdentityProtectionPacer],
})
export class EntraIdModule {}
