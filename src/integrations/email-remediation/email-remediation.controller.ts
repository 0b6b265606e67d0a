import { Body, Controller, Param } from '@nestjs/common';
import { ApiNotFoundResponse } from '@nestjs/swagger';
import type { ActionCall } from '../../actions/action-admission.service';
import { ActionAdmissionService } from '../../actions/action-admission.service';
import { ActionRoute, CurrentActionCall } from '../../actions/action-route.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { ProblemResponse } from '../../common/problem.dto';
import { RemediateEmailsDto, TenantParams } from './dto/email-remediation.dto';
import { requestedOf } from './email-remediation';

/** Pulling delivered messages out of mailboxes: Defender for Office 365 where available, per mailbox otherwise (microsoft-notes §15). */
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller()
export class EmailRemediationController {
  constructor(private readonly admission: ActionAdmissionService) {}

  @ActionRoute('v1/tenants/:id/emails/remediate', 'email.remediate', {
    accepted: 'The result says which route ran (`defender-for-office` or `mailbox`) and what it does not do.',
    conflicts: '`capability-unavailable` naming email-remediation (SecurityAnalyzedMessage.ReadWrite.All) and mailbox-messages (Mail.ReadWrite)',
  })
  remediate(@Param() p: TenantParams, @Body() b: RemediateEmailsDto, @CurrentActionCall() call: ActionCall) {
    return this.admission.request({ ...call, tenantId: p.id, requested: requestedOf(b.messages), body: b });
  }
}
