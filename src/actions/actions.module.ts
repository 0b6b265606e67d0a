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
import { ContainmentsService } from './releases/containments.service';
import { ReleaseScheduler } from './releases/release-scheduler.service';
import { ReleasesController } from './releases/releases.controller';
import { ReleasesRepository } from './releases/releases.repository';

/** The actions engine. Integration modules register their handlers in ActionCatalogue, their snapshot reads in EvidenceSnapshots. */
@Module({
  imports: [TypeOrmModule.forFeature([ActionEntity, ActionStepEntity]), TenantsModule],
  controllers: [ActionsController, EvidenceController, ReleasesController],
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
    // Time-boxed containment and the containments board (src/actions/releases).
    ReleasesRepository,
    ReleaseScheduler,
    ContainmentsService,
  ],
  exports: [ActionCatalogue, ActionAdmissionService, EvidenceSnapshots],
})
export class ActionsModule {}
