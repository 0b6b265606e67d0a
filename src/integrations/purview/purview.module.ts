import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { registerCapabilities } from '../../tenants/capability-registry';
import { TenantsModule } from '../../tenants/tenants.module';
import { PURVIEW_CAPABILITIES } from './purview.capabilities';
import { PurviewSearchEntity } from './purview-search.entity';
import { PurviewSearchProcessor } from './purview-search.processor';
import { PurviewSearchRepository } from './purview-search.repository';
import { PurviewSearchService } from './purview-search.service';
import { PurviewController } from './purview.controller';

/** Purview audit search (microsoft-notes §3.4): on-demand searches and backfills of collection gaps. */
@Module({
  imports: [TypeOrmModule.forFeature([PurviewSearchEntity]), CollectionModule, MicrosoftModule, TenantsModule],
  controllers: [PurviewController],
  providers: [PurviewSearchRepository, PurviewSearchProcessor, PurviewSearchService, registerCapabilities(PURVIEW_CAPABILITIES)],
})
export class PurviewModule {}
