import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBadGatewayResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../../access/access.decorator';
import { ApiProblems } from '../../common/api-problems.decorator';
import { ProblemResponse } from '../../common/problem.dto';
import { HuntingParams, HuntingQueryDto, HuntingResponse } from './dto/hunting.dto';
import { HuntingService } from './hunting.service';

@ApiTags('telemetry')
@ApiProblems()
@ApiNotFoundResponse({ type: ProblemResponse, description: "No such tenant (or outside the caller's tenant list)." })
@Controller('v1/tenants/:id/hunting')
export class HuntingController {
  constructor(private readonly hunting: HuntingService) {}

  @Post()
  @HttpCode(200)
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: HuntingResponse, description: "Microsoft's columns and rows (capped); the query and its row count are in the audit log." })
  @ApiBadRequestResponse({
    type: ProblemResponse,
    description: '`hunting-query-invalid`: Microsoft could not run the KQL (syntax, unknown table or column), with its message; `validation-failed`.',
  })
  @ApiTooManyRequestsResponse({ type: ProblemResponse, description: "`hunting-throttled`: the tenant's call limit or CPU quota is reached (`Retry-After`)." })
  @ApiConflictResponse({
    type: ProblemResponse,
    description: '`capability-unavailable` (no Defender XDR licence, or ThreatHunting.Read.All not granted), `tenant-disabled`.',
  })
  @ApiBadGatewayResponse({ type: ProblemResponse, description: '`microsoft-unavailable`: Microsoft failed to answer.' })
  hunt(@Param() p: HuntingParams, @Body() body: HuntingQueryDto, @CurrentRequest() ctx: RequestContext): Promise<HuntingResponse> {
    return this.hunting.hunt(ctx.principal, p.id, body, ctx);
  }
}
