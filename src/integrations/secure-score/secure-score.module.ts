import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { SecureScoreSnapshotEntity } from './secure-score-snapshot.entity';
import { SECURE_SCORE_CAPABILITIES } from './secure-score.capabilities';
import { SecureScoreCollector } from './secure-score.collector';
import { SecureScoreController } from './secure-score.controller';
import { SecureScoreRepository } from './secure-score.repository';
import { SecureScoreService } from './secure-score.service';

/** Microsoft Secure Score as a configuration audit: daily snapshots (a collector) and their diff. */
@Module({
  imports: [TypeOrmModule.forFeature([SecureScoreSnapshotEntity]), CollectionModule, MicrosoftModule, TenantsModule],
  controllers: [SecureScoreController],
  providers: [SecureScoreRepository, SecureScoreCollector, SecureScoreService, registerCapabilities(SECURE_SCORE_CAPABILITIES)],
})
export class SecureScoreModule {}
