import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditChainHeadEntity, AuditLogEntity, AuditPendingEntity } from './audit-log.entity';
import { AuditHmac } from './audit-hmac';
import { AuditLogExporter } from './audit-log-exporter';
import { AuditLogController } from './audit-log.controller';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { AuditSealer } from './audit-sealer';
import { RefusalRecorder } from './refusal-recorder';

/** Global: every module records its changes through AuditLogService in its own transactions. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogEntity, AuditPendingEntity, AuditChainHeadEntity])],
  controllers: [AuditLogController],
  providers: [
    AuditLogRepository,
    AuditSealer,
    AuditLogService,
    AuditLogExporter,
    AuditHmac,
    { provide: RefusalRecorder, useFactory: (log: AuditLogService) => new RefusalRecorder(log), inject: [AuditLogService] },
  ],
  exports: [AuditLogService, AuditHmac, RefusalRecorder],
})
export class AuditLogModule {}
