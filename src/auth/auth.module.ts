import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuthGuard } from './auth.guard';
import { BootstrapAdminService } from './bootstrap-admin.service';
import { EntraTokenVerifier } from './entra-token.verifier';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  controllers: [ApiKeysController],
  providers: [ApiKeysRepository, ApiKeysService, EntraTokenVerifier, BootstrapAdminService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [ApiKeysService, BootstrapAdminService],
})
export class AuthModule {}
