import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { ProblemResponse } from '../../common/problem.dto';
import { ActionIdParam } from '../dto/action.dto';
import { ActionEvidenceResponse } from '../dto/evidence.dto';
import { ActionEvidence } from './action-evidence.service';

@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such action (or outside the caller's tenant list)." })
@Controller()
export class EvidenceController {
  constructor(private readonly evidence: ActionEvidence) {}

  @Get('v1/actions/:id/evidence')
  @ApiTags('actions')
  @Access('auditor', 'responder')
  @ApiOkResponse({
    type: ActionEvidenceResponse,
    description: "The target's snapshot before the first step and every step's evidence, each with its SHA-256 and the audit entry that carries it.",
  })
  get(@Param() p: ActionIdParam, @CurrentRequest() ctx: RequestContext): Promise<ActionEvidenceResponse> {
    return this.evidence.of(p.id, ctx);
  }
}
