import { Module } from '@nestjs/common';
import { CollectionModule } from '../../collection/collection.module';
import { MicrosoftModule } from '../../microsoft';
import { ManagementActivityCollector } from './management-activity.collector';

/** The Office 365 Management Activity API collector; it registers itself with the collection engine. */
@Module({ imports: [CollectionModule, MicrosoftModule], providers: [ManagementActivityCollector] })
export class ManagementActivityModule {}
