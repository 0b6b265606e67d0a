import { Injectable, OnModuleInit } from '@nestjs/common';
import { ActionCatalogue } from '../../actions/action-catalogue';
import { StepContext, StepDefinition, StepError, StepOutcome } from '../../actions/action-handler';
import { DefenderClient } from './defender-client';
import { toDefenderStepError } from './defender-step-errors';
import type { DefenderMachine } from './defender-types';
import { DeviceResolver } from './device-resolver';
import { DevicesRepository } from './devices.repository';

export type TagAction = 'Add' | 'Remove';
export type TagParams = { add?: string[]; remove?: string[] };

/** The permission of `POST /api/machines/{id}/tags` (microsoft-notes M49). */
export const TAG_PERMISSION = 'Machine.ReadWrite.All';

/**
 * `device.tag`: Defender machine tags added and removed, one step (and one Defender call) per tag
 * (microsoft-notes M49). Each step reads the machine first: a tag already there (or already gone) is a
 * no-op; otherwise it posts the change and reads `machineTags` back to verify it. Cordon's inventory
 * copy is updated with what Defender answered, so protected-tag policy sees the new tags at once.
 */
@Injectable()
export class DeviceTags implements OnModuleInit {
  constructor(
    private readonly catalogue: ActionCatalogue,
    private readonly resolver: DeviceResolver,
    private readonly client: DefenderClient,
    private readonly devices: DevicesRepository,
  ) {}

  onModuleInit(): void {
    this.catalogue.register({
      type: 'device.tag',
      targetKind: 'device',
      requiredCapabilities: ['device-tags'],
      resolve: (tenantId, requested) => this.resolver.resolve(tenantId, requested),
      steps: (params) => {
        const { add = [], remove = [] } = params as TagParams;
        return [...add.map((tag) => this.tagStep('Add', tag)), ...remove.map((tag) => this.tagStep('Remove', tag))];
      },
      notes: ['Defender compares tag text exactly: "VIP" and "vip" are two tags.'],
    });
  }

  private tagStep(action: TagAction, tag: string): StepDefinition {
    const wanted = action === 'Add';
    const verb = wanted ? 'add' : 'remove';
    return {
      name: `${verb}-tag:${tag}`,
      preview: async (ctx) => {
        const tags = (await this.read(ctx)).machineTags ?? [];
        return tags.includes(tag) === wanted
          ? { wouldChange: `nothing: ${ctx.target.display} ${wanted ? 'already has' : 'has no'} tag "${tag}"`, changes: false }
          : { wouldChange: `${verb} tag "${tag}" ${wanted ? 'to' : 'from'} ${ctx.target.display} (tags now: ${tags.join(', ') || 'none'})`, changes: true };
      },
      run: async (ctx) => {
        try {
          return await this.apply(ctx, action, tag);
        } catch (error) {
          throw toDefenderStepError(error, TAG_PERMISSION);
        }
      },
    };
  }

  private async read(ctx: StepContext): Promise<DefenderMachine> {
    const machine = await this.client.machine(ctx.tenantId, ctx.target.id);
    if (!machine) throw new StepError('target-not-found', `Defender for Endpoint no longer lists machine ${ctx.target.id}.`);
    return machine;
  }

  private async apply(ctx: StepContext, action: TagAction, tag: string): Promise<StepOutcome> {
    const wanted = action === 'Add';
    const before = await this.read(ctx);
    if ((before.machineTags ?? []).includes(tag) === wanted) {
      return {
        status: 'succeeded',
        summary: `${wanted ? 'already tagged' : 'not tagged'} "${tag}": nothing sent`,
        verified: true,
        detail: { tag, action, changed: false, machineTags: before.machineTags ?? [] },
      };
    }
    const { body, requestId } = await this.client.call<DefenderMachine>(ctx.tenantId, 'tags', {
      method: 'POST',
      url: `/api/machines/${encodeURIComponent(ctx.target.id)}/tags`,
      body: { Value: tag, Action: action },
      clientRequestId: ctx.clientRequestId,
    });
    const after = (await this.client.machine(ctx.tenantId, ctx.target.id)) ?? body;
    const tags = Array.isArray(after.machineTags) ? after.machineTags.map(String) : [];
    await this.devices.upsert(ctx.tenantId, [after]);
    const verified = tags.includes(tag) === wanted;
    return {
      status: 'succeeded',
      summary: verified ? `${wanted ? 'tagged' : 'untagged'} "${tag}"` : `Defender accepted the ${action} of "${tag}" but machineTags does not show it yet`,
      verified,
      microsoftRequestId: requestId,
      detail: { tag, action, changed: true, machineTags: tags },
    };
  }
}
