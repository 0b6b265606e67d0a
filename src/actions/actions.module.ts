import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantsModule } from '../tenants/tenants.module';
import { ActionCatalogue } from './action-catalogue';
import { ActionExecutor } from './action-executor';
import { ActionEntity, ActionStepEntity } from './action.entity';
import { ActionsController } from './actions.controller';
import { ActionsRecovery } from './actions-recovery';
import { ActionsRepository } from './actions.repository';
import { ActionsService } from './actions.service';

/** The actions engine. Integration modules register their handlers in ActionCatalogue. */
@Module({
  imports: [TypeOrmModule.forFeature([ActionEntity, ActionStepEntity]), TenantsModule],
  controllers: [ActionsController],
  providers: [ActionsRepository, ActionCatalogue, ActionExecutor, ActionsService, ActionsRecovery],
  exports: [ActionCatalogue, ActionsService],
})
export class ActionsModule {}
