import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ActionsService } from '../../actions/actions.service';
import { ActionRequestDto, ActionResponse } from '../../actions/dto/action.dto';
import { reply, waitSeconds } from '../../actions/http-result';
import { Access, CurrentRequest, RequestContext } from '../../auth/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { Page } from '../../common/paging';
import { ProblemResponse } from '../../common/problem.dto';
import { DevicesService } from './devices.service';
import { DevicePage, DeviceQueryDto, DeviceResponse, IsolateDeviceDto, ScanDeviceDto, TenantDeviceParams, TenantIdParam } from './dto/device.dto';

/** Documents what every device action route answers. */
function DeviceActionCreated() {
  return (target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    ApiAcceptedResponse({ type: ActionResponse, description: 'Accepted; `Location: /v1/actions/{id}`. The step stays `running` until Defender reports the machine action final.' })(target, key, descriptor);
    ApiOkResponse({ type: ActionResponse, description: 'Finished within `Prefer: wait=N`, or a dry run.' })(target, key, descriptor);
    ApiConflictResponse({ type: ProblemResponse, description: '`ambiguous-target` (with `candidates`), `protected-target`, `capability-unavailable`, `tenant-disabled`, `idempotency-key-reused`, `request-in-progress`.' })(target, key, descriptor);
    ApiTooManyRequestsResponse({ type: ProblemResponse, description: '`action-rate-limited`, with Retry-After.' })(target, key, descriptor);
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and body ⇒ the first answer is replayed (Idempotent-Replayed: true).' })(target, key, descriptor);
    ApiHeader({ name: 'Prefer', required: false, description: '`wait=N` (N ≤ 60): answer with the final state if it is reached within N seconds.' })(target, key, descriptor);
  };
}

@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: 'No such tenant (or outside the caller\'s tenant list).' })
@Controller()
export class DevicesController {
  constructor(
    private readonly actions: ActionsService,
    private readonly devices: DevicesService,
  ) {}

  @Get('v1/tenants/:id/devices')
  @ApiTags('telemetry')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: DevicePage, description: 'The device inventory from Defender for Endpoint, by DNS name.' })
  list(@Param() p: TenantIdParam, @Query() q: DeviceQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<DeviceResponse>> {
    return this.devices.list(ctx.principal, p.id, q);
  }

  @Post('v1/tenants/:id/devices/:device/isolate')
  @ApiTags('actions')
  @Access('analyst', 'responder')
  @DeviceActionCreated()
  isolate(@Param() p: TenantDeviceParams, @Body() b: IsolateDeviceDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: 'device.isolate', requested: p.device, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/devices/:device/release')
  @ApiTags('actions')
  @Access('analyst', 'responder')
  @DeviceActionCreated()
  release(@Param() p: TenantDeviceParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: 'device.release', requested: p.device, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/devices/:device/antivirus-scan')
  @ApiTags('actions')
  @Access('analyst', 'responder')
  @DeviceActionCreated()
  antivirusScan(@Param() p: TenantDeviceParams, @Body() b: ScanDeviceDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: 'device.antivirus-scan', requested: p.device, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/devices/:device/restrict-app-execution')
  @ApiTags('actions')
  @Access('analyst', 'responder')
  @DeviceActionCreated()
  restrictAppExecution(@Param() p: TenantDeviceParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: 'device.restrict-app-execution', requested: p.device, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/devices/:device/unrestrict-app-execution')
  @ApiTags('actions')
  @Access('analyst', 'responder')
  @DeviceActionCreated()
  unrestrictAppExecution(@Param() p: TenantDeviceParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: 'device.unrestrict-app-execution', requested: p.device, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }

  @Post('v1/tenants/:id/devices/:device/collect-investigation-package')
  @ApiTags('actions')
  @Access('analyst', 'responder')
  @DeviceActionCreated()
  collectInvestigationPackage(@Param() p: TenantDeviceParams, @Body() b: ActionRequestDto, @CurrentRequest() ctx: RequestContext, @Headers() h: Record<string, string>, @Res({ passthrough: true }) r: FastifyReply) {
    return reply(r, this.actions.request({ tenantId: p.id, type: 'device.collect-investigation-package', requested: p.device, body: b, context: ctx, idempotencyKey: h['idempotency-key'], waitSeconds: waitSeconds(h.prefer) }));
  }
}
