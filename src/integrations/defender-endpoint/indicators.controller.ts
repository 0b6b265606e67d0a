import { Body, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ActionAdmissionService, type ActionCall } from '../../actions/action-admission.service';
import { ActionRoute, ActionRouteDocs, CurrentActionCall } from '../../actions/action-route.decorator';
import { ActionRequestDto } from '../../actions/dto/action.dto';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { Page } from '../../common/paging';
import { problems, type FieldError } from '../../common/problem';
import { ProblemResponse } from '../../common/problem.dto';
import { TenantIdParam } from './dto/device.dto';
import { ImportIndicatorsDto, IndicatorPage, IndicatorQueryDto, IndicatorResponse, SubmitIndicatorDto, TenantIndicatorParams } from './dto/indicator.dto';
import { batchRequested } from './indicator-actions';
import { checkIndicator, indicatorRequested, type IndicatorSpec } from './indicator-request';
import { IndicatorsService } from './indicators.service';

const SUBMIT: ActionRouteDocs = {
  accepted: 'The result carries `indicator` (Defender id, created or updated). `indicator-limit-reached` when the tenant is at its limit of active indicators.',
};
const IMPORT: ActionRouteDocs = {
  accepted: "The result lists every item as created, updated or failed (with Microsoft's failureReason).",
};
const REMOVE: ActionRouteDocs = { method: 'DELETE', accepted: 'A 404 from Defender on a retry counts as already removed.' };

/** Refuses the request (400, before anything is recorded) when an indicator is not valid. */
function valid(result: IndicatorSpec | FieldError[]): IndicatorSpec {
  if (Array.isArray(result)) throw problems.validation(result);
  return result;
}

/** Defender for Endpoint custom indicators: submit, import, list and remove (microsoft-notes §13). */
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller()
export class IndicatorsController {
  constructor(
    private readonly admission: ActionAdmissionService,
    private readonly indicators: IndicatorsService,
  ) {}

  @Get('v1/tenants/:id/indicators')
  @ApiTags('telemetry')
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: IndicatorPage, description: "The tenant's custom indicators, read live from Defender, by Defender id." })
  list(@Param() p: TenantIdParam, @Query() q: IndicatorQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<IndicatorResponse>> {
    return this.indicators.list(ctx.principal, p.id, q);
  }

  @ActionRoute('v1/tenants/:id/indicators', 'indicator.submit', SUBMIT)
  submit(@Param() p: TenantIdParam, @Body() b: SubmitIndicatorDto, @CurrentActionCall() call: ActionCall) {
    const { reason, ticket, dryRun, ...fields } = b;
    const spec = valid(checkIndicator(fields as Record<string, unknown>, '', Date.now()));
    const body = { reason, ...(ticket !== undefined ? { ticket } : {}), ...(dryRun !== undefined ? { dryRun } : {}), ...spec };
    return this.admission.request({ ...call, tenantId: p.id, requested: indicatorRequested(spec), body });
  }

  @ActionRoute('v1/tenants/:id/indicators/import', 'indicator.import', IMPORT)
  import(@Param() p: TenantIdParam, @Body() b: ImportIndicatorsDto, @CurrentActionCall() call: ActionCall) {
    const now = Date.now();
    const errors: FieldError[] = [];
    const specs: IndicatorSpec[] = [];
    b.indicators.forEach((item, i) => {
      const checked = checkIndicator(item, `indicators[${i}].`, now, true);
      if (Array.isArray(checked)) errors.push(...checked);
      else specs.push(checked);
    });
    if (errors.length) throw problems.validation(errors);
    const seen = new Map<string, number>();
    specs.forEach((s, i) => {
      const key = indicatorRequested(s).toLowerCase();
      if (seen.has(key)) errors.push({ field: `indicators[${i}].value`, message: `repeats indicators[${seen.get(key)}] (same type and value)` });
      else seen.set(key, i);
    });
    if (errors.length) throw problems.validation(errors);
    const { reason, ticket, dryRun } = b;
    const body: ActionRequestDto & { indicators: IndicatorSpec[] } = {
      reason,
      ...(ticket !== undefined ? { ticket } : {}),
      ...(dryRun !== undefined ? { dryRun } : {}),
      indicators: specs,
    };
    return this.admission.request({ ...call, tenantId: p.id, requested: batchRequested(specs), body });
  }

  @ActionRoute('v1/tenants/:id/indicators/:indicatorId', 'indicator.remove', REMOVE)
  remove(@Param() p: TenantIndicatorParams, @Body() b: ActionRequestDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.indicatorId, body: b });
  }
}
