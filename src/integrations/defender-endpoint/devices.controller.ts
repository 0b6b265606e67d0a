import { Body, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ActionAdmissionService, ActionCall } from '../../actions/action-admission.service';
import { ActionRoute, ActionRouteDocs, CurrentActionCall } from '../../actions/action-route.decorator';
import { ActionRequestDto } from '../../actions/dto/action.dto';
import { TimeboxedActionRequestDto } from '../../actions/releases/release-window';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { Page } from '../../common/paging';
import { problems } from '../../common/problem';
import { ProblemResponse } from '../../common/problem.dto';
import { DevicesService } from './devices.service';
import {
  CollectFileDto,
  DevicePage,
  DeviceQueryDto,
  DeviceResponse,
  DeviceTagsDto,
  IsolateDeviceDto,
  RunScriptDto,
  ScanDeviceDto,
  StopAndQuarantineFileDto,
  TenantDeviceParams,
  TenantIdParam,
} from './dto/device.dto';

/** What every device action route answers besides the common ones. */
const DEVICE_ACTION: ActionRouteDocs = {
  accepted: 'The step stays `running` until Defender reports the machine action final.',
  conflicts: '`ambiguous-target` (with `candidates`)',
};

/** A tag request names at least one tag, and never the same tag to add and to remove: refused before anything is recorded. */
function requireTags(body: DeviceTagsDto): void {
  if (!body.add?.length && !body.remove?.length) throw problems.validation([{ field: 'body', message: 'give at least one tag in add or remove' }]);
  const both = (body.add ?? []).find((t) => (body.remove ?? []).includes(t));
  if (both !== undefined) throw problems.validation([{ field: 'remove', message: `tag "${both}" is in both add and remove` }]);
}

@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller()
export class DevicesController {
  constructor(
    private readonly admission: ActionAdmissionService,
    private readonly devices: DevicesService,
  ) {}

  @Get('v1/tenants/:id/devices')
  @ApiTags('telemetry')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: DevicePage, description: 'The device inventory from Defender for Endpoint, by DNS name.' })
  list(@Param() p: TenantIdParam, @Query() q: DeviceQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<DeviceResponse>> {
    return this.devices.list(ctx.principal, p.id, q);
  }

  @ActionRoute('v1/tenants/:id/devices/:device/isolate', 'device.isolate', DEVICE_ACTION)
  isolate(@Param() p: TenantDeviceParams, @Body() b: IsolateDeviceDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/release', 'device.release', DEVICE_ACTION)
  release(@Param() p: TenantDeviceParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/antivirus-scan', 'device.antivirus-scan', DEVICE_ACTION)
  antivirusScan(@Param() p: TenantDeviceParams, @Body() b: ScanDeviceDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/restrict-app-execution', 'device.restrict-app-execution', DEVICE_ACTION)
  restrictAppExecution(@Param() p: TenantDeviceParams, @Body() b: TimeboxedActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/unrestrict-app-execution', 'device.unrestrict-app-execution', DEVICE_ACTION)
  unrestrictAppExecution(@Param() p: TenantDeviceParams, @Body() b: TimeboxedActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/collect-investigation-package', 'device.collect-investigation-package', DEVICE_ACTION)
  collectInvestigationPackage(@Param() p: TenantDeviceParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/stop-and-quarantine-file', 'device.stop-and-quarantine-file', DEVICE_ACTION)
  stopAndQuarantineFile(@Param() p: TenantDeviceParams, @Body() b: StopAndQuarantineFileDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/tags', 'device.tag', {
    accepted: 'One step per tag; a tag already there (or already gone) is a no-op.',
    conflicts: '`ambiguous-target` (with `candidates`), `protected-target` (also when removing a protected tag: the device is protected while it has it)',
  })
  tags(@Param() p: TenantDeviceParams, @Body() b: DeviceTagsDto, @CurrentActionCall() call: ActionCall) {
    requireTags(b);
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/collect-file', 'device.collect-file', {
    accepted: "The step stays `running` until the live response session ends; the result then carries the file's SHA-256, size and a 30-minute download link.",
    conflicts: '`ambiguous-target` (with `candidates`)',
  })
  collectFile(@Param() p: TenantDeviceParams, @Body() b: CollectFileDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }

  @ActionRoute('v1/tenants/:id/devices/:device/run-script', 'device.run-script', {
    accepted:
      "Waits for a second responder's approval unless the tenant policy says runScriptApproval: policy; once run, the result carries the script's exit code and output (up to 1 MB) and its SHA-256.",
    conflicts: '`ambiguous-target` (with `candidates`), `live-response-script-not-allowed` (the policy does not list the script)',
  })
  runScript(@Param() p: TenantDeviceParams, @Body() b: RunScriptDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.device, body: b });
  }
}
