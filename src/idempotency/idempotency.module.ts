import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { IdempotencyInterceptor } from './idempotent.interceptor';
import { IdempotencyRepository } from './idempotency.repository';
import { SealedResponses } from './sealed-responses';
import { TenantsModule } from '../tenants/tenants.module';

/** Global: any create route can use `@Idempotent(operation)`. Tenants lends the vault that seals answers holding a secret. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKeyEntity]), TenantsModule],
  providers: [IdempotencyRepository, IdempotencyInterceptor, SealedResponses],
  exports: [IdempotencyRepository, IdempotencyInterceptor, SealedResponses],
})
export class IdempotencyModule {}
