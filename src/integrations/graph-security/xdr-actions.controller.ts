import { Body, Controller, Param } from '@nestjs/common';
import type { ActionCall } from '../../actions/action-admission.service';
import { ActionAdmissionService } from '../../actions/action-admission.service';
import { ActionRoute, ActionRouteDocs, CurrentActionCall } from '../../actions/action-route.decorator';
import { ApiNotFoundResponse } from '@nestjs/swagger';
import { ApiProblems } from '../../common/api-problems.decorator';
import { ProblemResponse } from '../../common/problem.dto';
import { problems } from '../../common/problem';
import {
  ALERT_CHANGE_FIELDS,
  CommentDto,
  INCIDENT_CHANGE_FIELDS,
  TenantAlertParams,
  TenantIncidentParams,
  UpdateAlertDto,
  UpdateIncidentDto,
} from './dto/xdr-actions.dto';

const UPDATE: ActionRouteDocs = { method: 'PATCH', accepted: 'Only the fields that differ at Microsoft are sent; the result says what changed.' };

/** An update that changes nothing is a mistake of the caller: refused before anything is recorded. */
function requireChange(body: object, fields: readonly string[]): void {
  if (fields.some((f) => (body as Record<string, unknown>)[f] !== undefined)) return;
  throw problems.validation([{ field: 'body', message: `give at least one of ${fields.join(', ')}` }]);
}

/** Closing the loop in Defender XDR: status, classification, determination, owner, tags and comments of alerts and incidents. */
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller()
export class XdrActionsController {
  constructor(private readonly admission: ActionAdmissionService) {}

  @ActionRoute('v1/tenants/:id/alerts/:alertId', 'alert.update', UPDATE)
  updateAlert(@Param() p: TenantAlertParams, @Body() b: UpdateAlertDto, @CurrentActionCall() call: ActionCall) {
    requireChange(b, ALERT_CHANGE_FIELDS);
    return this.admission.request({ ...call, tenantId: p.id, requested: p.alertId, body: b });
  }

  @ActionRoute('v1/tenants/:id/incidents/:incidentId', 'incident.update', UPDATE)
  updateIncident(@Param() p: TenantIncidentParams, @Body() b: UpdateIncidentDto, @CurrentActionCall() call: ActionCall) {
    requireChange(b, INCIDENT_CHANGE_FIELDS);
    return this.admission.request({ ...call, tenantId: p.id, requested: p.incidentId, body: b });
  }

  @ActionRoute('v1/tenants/:id/alerts/:alertId/comments', 'alert.comment')
  commentAlert(@Param() p: TenantAlertParams, @Body() b: CommentDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.alertId, body: b });
  }

  @ActionRoute('v1/tenants/:id/incidents/:incidentId/comments', 'incident.comment')
  commentIncident(@Param() p: TenantIncidentParams, @Body() b: CommentDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: p.incidentId, body: b });
  }
}
