import { Injectable } from '@nestjs/common';
import type { RequestContext } from '../access/access.decorator';
import { canAccessTenant } from '../access/tenant-scope';
import { decodeCursor, Page, toPage } from '../common/paging';
import { problems } from '../common/problem';
import { toActionResponse } from './action-view';
import { ActionsRepository } from './actions.repository';
import { releaseView } from './releases/release-scheduler.service';
import { ReleasesRepository } from './releases/releases.repository';
import { ActionQueryDto, ActionResponse } from './dto/action.dto';

/** Reads of actions, within the caller's tenants: one by id, or a page of them, newest first. */
@Injectable()
export class ActionQueriesService {
  constructor(
    private readonly repository: ActionsRepository,
    private readonly releases: ReleasesRepository,
  ) {}

  async get(actionId: string, context: RequestContext): Promise<ActionResponse> {
    const action = await this.repository.findById(actionId);
    if (!action || !canAccessTenant(context.principal, action.tenantId)) throw problems.notFound(`Action ${actionId} does not exist.`);
    const [steps, release] = await Promise.all([this.repository.steps(actionId), this.releases.find(actionId)]);
    return toActionResponse(action, steps, release && releaseView(release, action.params));
  }

  async list(query: ActionQueryDto, context: RequestContext): Promise<Page<ActionResponse>> {
    const after = decodeCursor(query.cursor, 2) as [string, string] | undefined;
    const rows = await this.repository.listPage(
      { ...query, tenantIds: context.principal.tenantIds },
      query.limit,
      after && { createdAt: after[0], id: after[1] },
    );
    const steps = await this.repository.stepsOf(rows.slice(0, query.limit).map((r) => r.id));
    return toPage(
      rows,
      query.limit,
      (a) => [a.createdAt.toISOString(), a.id],
      (a) => toActionResponse(a, steps.get(a.id) ?? []),
    );
  }
}
