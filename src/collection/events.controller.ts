import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentRequest, RequestContext } from '../access/access.decorator';
import { ApiProblems } from '../common/api-problems.decorator';
import type { Page } from '../common/paging';
import { EventPage, EventQueryDto, EventResponse } from './dto/event.dto';
import { EventsService } from './events.service';

@ApiTags('telemetry')
@ApiProblems()
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @Access('analyst', 'responder', 'admin')
  @ApiOkResponse({ type: EventPage, description: 'Collected records, newest first: normalized fields plus the raw record.' })
  list(@Query() query: EventQueryDto, @CurrentRequest() ctx: RequestContext): Promise<Page<EventResponse>> {
    return this.events.list(ctx.principal, query);
  }
}
