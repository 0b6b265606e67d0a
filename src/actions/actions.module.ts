import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantsModule } from '../tenants/tenants.module';
import { ActionAdmissionService } from './action-admission.service';
import { ActionCatalogue } from './action-catalogue';
import { ActionDecisionsService } from './action-decisions.service';
import { ActionExecutor } from './action-executor';
import { ActionSecrets } from './action-secrets';
import { ActionQueriesService } from './action-queries.service';
import { ActionEntity, ActionStepEntity } from './action.entity';
import { ActionsController } from './actions.controller';
import { ActionsRecovery } from './actions-recovery';
import { ActionsRepository } from './actions.repository';
import { ActionEvidence } from './evidence/action-evidence.service';
import { EvidenceController } from './evidence/evidence.controller';
import { EvidenceSnapshots } from './evidence/evidence-snapshots';

/** The actions engine. Integration modules register their handlers in ActionCatalogue, their snapshot reads in EvidenceSnapshots. */
@Module({
  imports: [TypeOrmModule.forFeature([ActionEntity, ActionStepEntity]), TenantsModule],
  controllers: [ActionsController, EvidenceController],
  providers: [
    ActionsRepository,
    ActionCatalogue,
    ActionSecrets,
    ActionExecutor,
    ActionAdmissionService,
    ActionDecisionsService,
    ActionQueriesService,
    ActionsRecovery,
    EvidenceSnapshots,
    ActionEvidence,
  ],
  exports: [ActionCatalogue, ActionAdmissionService, EvidenceSnapshots],
})
export class ActionsModule {}
