import { Module } from '@nestjs/common';
import { AuditLogModule } from '../audit-log/audit-log.module';
import { MicrosoftModule } from '../microsoft';
import { TenantsModule } from '../tenants/tenants.module';
import { OnboardingController } from './onboarding.controller';
import { OnboardingService } from './onboarding.service';

/** Onboarding: the permission manifest (computed from the capability checks, no state of its own). */
@Module({ imports: [TenantsModule, MicrosoftModule, AuditLogModule], controllers: [OnboardingController], providers: [OnboardingService] })
export class OnboardingModule {}
