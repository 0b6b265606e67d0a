import { Module } from '@nestjs/common';
import { ActionsModule } from '../../actions/actions.module';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { TenantsModule } from '../../tenants/tenants.module';
import { DirectoryAuditsCollector, RiskDetectionsCollector, SignInsCollector } from './entra-log.collectors';
import { IdentityProtectionPacer } from './identity-protection-pacer';
import { UserActions } from './user-actions';

/** Entra ID: user containment actions, and the sign-in, directory audit and risk detection collectors. */
@Module({
  imports: [ActionsModule, TenantsModule, MicrosoftModule, CollectionModule],
  providers: [UserActions, IdentityProtectionPacer, SignInsCollector, DirectoryAuditsCollector, RiskDetectionsCollector],
  exports: [IdentityProtectionPacer],
})
export class EntraIdModule {}
