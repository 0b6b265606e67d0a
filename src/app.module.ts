import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ActionsModule } from './actions/actions.module';
import { AuditLogModule } from './audit-log/audit-log.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { DefenderEndpointModule } from './integrations/defender-endpoint/defender-endpoint.module';
import { EntraIdModule } from './integrations/entra-id/entra-id.module';
import { ManagementActivityModule } from './integrations/management-activity/management-activity.module';
import { PurviewModule } from './integrations/purview/purview.module';
import { SecureScoreModule } from './integrations/secure-score/secure-score.module';
import { DefenderHuntingModule } from './integrations/defender-hunting/defender-hunting.module';
import { GraphSecurityModule } from './integrations/graph-security/graph-security.module';
import { EmailRemediationModule } from './integrations/email-remediation/email-remediation.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { CollectionModule } from './collection/collection.module';
import { AuthModule } from './auth/auth.module';
import { ProblemFilter } from './common/problem.filter';
import { AppConfig, loadConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { TenantsModule } from './tenants/tenants.module';
import { OnboardingModule } from './onboarding/onboarding.module';

/** Every feature module: the app imports them all, and the route spec checks every controller they declare. */
export const FEATURE_MODULES = [
  AuditLogModule,
  IdempotencyModule,
  AuthModule,
  HealthModule,
  TenantsModule,
  ActionsModule,
  EntraIdModule,
  DefenderEndpointModule,
  CollectionModule,
  ManagementActivityModule,
  WebhooksModule,
  GraphSecurityModule,
  EmailRemediationModule,
  PurviewModule,
  SecureScoreModule,
  DefenderHuntingModule,
  OnboardingModule,
];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig = loadConfig()): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, JobsModule, ...FEATURE_MODULES],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
