import { Module } from '@nestjs/common';
import { ActionsModule } from '../../actions/actions.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { TenantGraphs } from '../tenant-graphs';
import { EmailRemediation } from './email-remediation';
import { EMAIL_REMEDIATION_CAPABILITIES } from './email-remediation.capabilities';
import { EmailRemediationController } from './email-remediation.controller';

/** Email remediation (`email.remediate`): Defender for Office 365's analyzedEmails, or the recipients' mailboxes (microsoft-notes §15). */
@Module({
  imports: [ActionsModule, MicrosoftModule, TenantsModule],
  controllers: [EmailRemediationController],
  providers: [TenantGraphs, EmailRemediation, registerCapabilities(...EMAIL_REMEDIATION_CAPABILITIES)],
})
export class EmailRemediationModule {}
