import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { ProblemResponse } from '../../common/problem.dto';
import { SecureScoreParams, SecureScoreResponse } from './dto/secure-score.dto';
import { SecureScoreService } from './secure-score.service';

@ApiTags('telemetry')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list), or no Secure Score collected yet." })
@Controller('v1/tenants/:id/secure-score')
export class SecureScoreController {
  constructor(private readonly secureScore: SecureScoreService) {}

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({
    type: SecureScoreResponse,
    description: 'The latest daily snapshot and the change since the previous one (score delta, controls whose score or state changed).',
  })
  get(@Param() p: SecureScoreParams, @CurrentRequest() ctx: RequestContext): Promise<SecureScoreResponse> {
    return this.secureScore.get(ctx.principal, p.id);
  }
}
