import { Body, Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ActionAdmissionService, ActionCall } from '../../actions/action-admission.service';
import { ActionRoute, CurrentActionCall } from '../../actions/action-route.decorator';
import { ActionRequestDto, TenantUserParams } from '../../actions/dto/action.dto';
import { TimeboxedActionRequestDto } from '../../actions/releases/release-window';
import { ApiProblems } from '../../common/api-problems.decorator';
import { problems } from '../../common/problem';
import { ProblemResponse } from '../../common/problem.dto';
import {
  AppConsentsResponse,
  AuthMethodsResponse,
  ContainBecDto,
  EnableInboxRulesDto,
  InboxRulesResponse,
  RemoveAuthMethodsDto,
  RemoveInboxRulesDto,
  ResetPasswordDto,
  RevokeAppConsentsDto,
  TenantAppParams,
} from './dto/persistence.dto';
import { PersistenceReads } from './persistence-reads.service';

/** Exactly one of `fields` must be given (a list, a time, or `true`), or the request is refused before anything is recorded. */
function requireOne(body: object, fields: string[]): void {
  const b = body as Record<string, unknown>;
  const given = fields.filter((f) => b[f] !== undefined && b[f] !== false);
  if (given.length === 1) return;
  const message = given.length === 0 ? `give one of ${fields.join(', ')}` : `give only one of ${given.join(', ')}`;
  throw problems.validation([{ field: fields[0], message }]);
}

/**
 * Evicting an attacker's persistence (README "Evict persistence (BEC)"): the reads a responder decides
 * from, and one action route per removal, each through the actions engine.
 */
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list), or no such user at Microsoft." })
@Controller()
export class PersistenceController {
  constructor(
    private readonly admission: ActionAdmissionService,
    private readonly reads: PersistenceReads,
  ) {}

  @Get('v1/tenants/:id/users/:user/inbox-rules')
  @ApiTags('persistence')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: InboxRulesResponse, description: "The user's inbox rules as Graph shows them, each with Cordon's risk flags." })
  inboxRules(@Param() p: TenantUserParams, @CurrentRequest() ctx: RequestContext): Promise<InboxRulesResponse> {
    return this.reads.inboxRules(ctx.principal, p.id, p.user);
  }

  @Get('v1/tenants/:id/users/:user/app-consents')
  @ApiTags('persistence')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: AppConsentsResponse, description: "The user's delegated consents and app role assignments, with the app behind each." })
  appConsents(@Param() p: TenantUserParams, @CurrentRequest() ctx: RequestContext): Promise<AppConsentsResponse> {
    return this.reads.appConsents(ctx.principal, p.id, p.user);
  }

  @Get('v1/tenants/:id/users/:user/auth-methods')
  @ApiTags('persistence')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: AuthMethodsResponse, description: "The user's registered sign-in methods: typed, dated where Graph dates them, never a secret." })
  authMethods(@Param() p: TenantUserParams, @CurrentRequest() ctx: RequestContext): Promise<AuthMethodsResponse> {
    return this.reads.authMethods(ctx.principal, p.id, p.user);
  }

  @ActionRoute('v1/tenants/:id/users/:user/remove-inbox-rules', 'user.remove-inbox-rules')
  removeInboxRules(@Param() p: TenantUserParams, @Body() b: RemoveInboxRulesDto, @CurrentActionCall() call: ActionCall) {
    requireOne(b, ['ruleIds', 'risky']);
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/enable-inbox-rules', 'user.enable-inbox-rules')
  enableInboxRules(@Param() p: TenantUserParams, @Body() b: EnableInboxRulesDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/revoke-app-consents', 'user.revoke-app-consents')
  revokeAppConsents(@Param() p: TenantUserParams, @Body() b: RevokeAppConsentsDto, @CurrentActionCall() call: ActionCall) {
    requireOne(b, ['clientIds', 'all']);
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/remove-auth-methods', 'user.remove-auth-methods')
  removeAuthMethods(@Param() p: TenantUserParams, @Body() b: RemoveAuthMethodsDto, @CurrentActionCall() call: ActionCall) {
    requireOne(b, ['methodIds', 'addedAfter', 'allExceptPassword']);
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/reset-password', 'user.reset-password', { secretFields: ['password'] })
  resetPassword(@Param() p: TenantUserParams, @Body() b: ResetPasswordDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/add-to-containment-group', 'user.add-to-containment-group', { conflicts: '`containment-group-not-set`' })
  addToContainmentGroup(@Param() p: TenantUserParams, @Body() b: TimeboxedActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/remove-from-containment-group', 'user.remove-from-containment-group', { conflicts: '`containment-group-not-set`' })
  removeFromContainmentGroup(@Param() p: TenantUserParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/users/:user/contain-bec', 'user.contain-bec')
  containBec(@Param() p: TenantUserParams, @Body() b: ContainBecDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.user, body: b });
  }

  @ActionRoute('v1/tenants/:id/service-principals/:app/disable', 'app.disable', {
    conflicts: "`protected-target` also for Cordon's own app and Microsoft's first-party apps",
  })
  disableApp(@Param() p: TenantAppParams, @Body() b: TimeboxedActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.app, body: b });
  }

  @ActionRoute('v1/tenants/:id/service-principals/:app/enable', 'app.enable')
  enableApp(@Param() p: TenantAppParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.app, body: b });
  }
}
