import { Module } from '@nestjs/common';
import { ActionsModule } from '../../actions/actions.module';
import { MicrosoftModule } from '../../microsoft';
import { TenantsModule } from '../../tenants/tenants.module';
import { UserActions } from './user-actions';

/** Entra ID: user containment actions (and, in a later issue, sign-in and directory audit collectors). */
@Module({ imports: [ActionsModule, TenantsModule, MicrosoftModule], providers: [UserActions] })
export class EntraIdModule {}
