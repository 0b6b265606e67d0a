import { Module } from '@nestjs/common';
import { ActionsModule } from '../../actions/actions.module';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { ENTRA_ID_CAPABILITIES } from './entra-id.capabilities';
import { DirectoryAuditsCollector, RiskDetectionsCollector, SignInsCollector } from './entra-log.collectors';
import { IdentityProtectionPacer } from './identity-protection-pacer';
import { UserActions } from './user-actions';

/** Entra ID: user containment actions, and the sign-in, directory audit and risk detection collectors. */
@Module({
  imports: [ActionsModule, TenantsModule, MicrosoftModule, CollectionModule],
  providers: [
    UserActions,
    IdentityProtectionPacer,
    SignInsCollector,
    DirectoryAuditsCollector,
    RiskDetectionsCollector,
    registerCapabilities(...ENTRA_ID_CAPABILITIES),
  ],
  exports: [IdentityProtectionPacer],
})
export class EntraIdModule {}
