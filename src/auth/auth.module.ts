import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { ApiKeyCache } from './api-key-cache';
import { ApiKeyInvalidation } from './api-key-invalidation';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuthGuard } from './auth.guard';
import { BootstrapAdminService } from './bootstrap-admin.service';
import { EntraTokenVerifier } from './entra-token.verifier';

/** Keys held per process; more keys in use than this only means more of them are read from the database. */
export const API_KEY_CACHE_ENTRIES = 5000;

@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  controllers: [ApiKeysController],
  providers: [
    {
      provide: ApiKeyCache,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new ApiKeyCache({ maxEntries: API_KEY_CACHE_ENTRIES, ttlMs: config.apiKeyCacheSeconds * 1000 }),
    },
    ApiKeyInvalidation,
    ApiKeysRepository,
    ApiKeysService,
    EntraTokenVerifier,
    BootstrapAdminService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ApiKeysService, BootstrapAdminService],
})
export class AuthModule {}
