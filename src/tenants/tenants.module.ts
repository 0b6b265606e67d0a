import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MicrosoftModule } from '../microsoft';
import { CapabilityProbe } from './capability-probe';
import { CapabilityRegistry } from './capability-registry';
import { CredentialVault } from './credential-vault';
import { KeyRotationService } from './key-rotation.service';
import { TenantCapabilitiesService } from './tenant-capabilities.service';
import { TenantPoliciesService } from './tenant-policies.service';
import { TenantCapabilityEntity, TenantEntity, TenantPolicyEntity, TenantPrivilegedAppEntity } from './tenant.entity';
import { TenantsController } from './tenants.controller';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity, TenantCapabilityEntity, TenantPolicyEntity, TenantPrivilegedAppEntity]), MicrosoftModule],
  controllers: [TenantsController],
  providers: [
    TenantsRepository,
    TenantsService,
    CredentialVault,
    CapabilityRegistry,
    CapabilityProbe,
    TenantCapabilitiesService,
    TenantPoliciesService,
    KeyRotationService,
  ],
  exports: [TenantsService, CapabilityRegistry, TenantCapabilitiesService, TenantPoliciesService, KeyRotationService, CredentialVault],
})
export class TenantsModule {}
