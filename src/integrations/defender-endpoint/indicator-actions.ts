import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ActionTarget, StepContext, StepDefinition, StepError, StepInProgress, StepOutcome } from '../../actions/action-handler';
import { ActionCatalogue } from '../../actions/action-catalogue';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { MicrosoftApiError } from '../../microsoft';
import { DefenderPacer } from './defender-pacer';
import { toDefenderStepError } from './defender-step-errors';
import { INDICATOR_APIS, IndicatorClient, type DefenderIndicator, type ImportResult } from './indicator-client';
import { defenderIndicatorBody, parseRequested, type IndicatorSpec } from './indicator-request';
import { indicatorKey, isExpired } from './indicator-values';

const PERMISSION = 'Ti.ReadWrite.All (or Ti.ReadWrite)';
/** A step waits in place for a slot this close; a later slot parks the action (`queued`, waiting for capacity). */
const WAIT_IN_PLACE_MS = 500;

interface SlotState {
  slotAt?: string;
}

/** The target of a batch: a digest of its items, so the same batch is the same target. */
export function batchRequested(items: IndicatorSpec[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(items.map((i) => indicatorKey(i.type, i.value)).sort()))
    .digest('hex');
  return `batch:${digest.slice(0, 16)}`;
}

const describe = (spec: { type: string; value: string }) => `${spec.type} ${spec.value}`;

/**
 * Defender for Endpoint custom indicators (microsoft-notes §13): `indicator.submit` (create or update one),
 * `indicator.import` (up to 500 in one call, results per item) and `indicator.remove`. Every write is paced
 * (DefenderPacer, microsoft-notes M45); a new indicator is refused before the call when the tenant is at
 * its limit of active indicators (microsoft-notes M46).
 */
@Injectable()
export class IndicatorActions implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalogue: ActionCatalogue,
    private readonly client: IndicatorClient,
    private readonly pacer: DefenderPacer,
  ) {}

  onModuleInit(): void {
    const submit = this.submitStep();
    const importing = this.importStep();
    const remove = this.removeStep();
    this.catalogue.register({
      type: 'indicator.submit',
      targetKind: 'indicator',
      requiredCapabilities: ['indicators'],
      resolve: (tenantId, requested) => this.resolveSubmission(tenantId, requested),
      steps: () => [submit],
      notes: ['IP, URL and domain indicators block only on devices with network protection in block mode (microsoft-notes M44).'],
    });
    this.catalogue.register({
      type: 'indicator.import',
      targetKind: 'indicator',
      requiredCapabilities: ['indicators'],
      resolve: async (_tenantId, requested) => ({ requested, id: requested, display: `indicator batch ${requested.slice(6)}`, identities: [], groups: [] }),
      steps: () => [importing],
    });
    this.catalogue.register({
      type: 'indicator.remove',
      targetKind: 'indicator',
      requiredCapabilities: ['indicators'],
      resolve: (tenantId, requested) => this.resolveExisting(tenantId, requested),
      steps: () => [remove],
    });
  }

  private get limit(): number {
    return this.config.defenderEndpoint.indicatorLimit;
  }

  private async resolveSubmission(tenantId: string, requested: string): Promise<ActionTarget> {
    const { type, value } = parseRequested(requested);
    try {
      const existing = await this.client.find(tenantId, type, value);
      return {
        requested,
        // Defender's id once it has one; until then the (type, value) it will be keyed on.
        id: existing ? String(existing.id) : requested,
        display: describe({ type, value }),
        identities: [value.toLowerCase()],
        groups: [],
        details: { existingIndicatorId: existing ? String(existing.id) : null },
      };
    } catch (error) {
      throw toDefenderStepError(error, PERMISSION);
    }
  }

  private async resolveExisting(tenantId: string, id: string): Promise<ActionTarget> {
    let found: DefenderIndicator | undefined;
    try {
      found = (await this.client.list(tenantId)).find((i) => String(i.id) === id);
    } catch (error) {
      throw toDefenderStepError(error, PERMISSION);
    }
    if (!found) throw new StepError('target-not-found', `Defender has no indicator ${id} (or Cordon's app cannot see it, microsoft-notes M47).`);
    return {
      requested: id,
      id,
      display: `${found.indicatorType} ${found.indicatorValue}`,
      identities: [id, String(found.indicatorValue).toLowerCase()],
      groups: [],
      details: { type: found.indicatorType, value: found.indicatorValue, action: found.action, expirationTime: found.expirationTime ?? null },
    };
  }

  /** Books the write's slot; a slot later than WAIT_IN_PLACE_MS parks the action until then (it survives restarts). */
  private async turn(ctx: StepContext, api: string): Promise<StepInProgress | null> {
    const state = (ctx.state ?? {}) as SlotState;
    const limits = this.pacer.limits(api);
    let slot = state.slotAt ? { at: new Date(state.slotAt), waitMs: Date.parse(state.slotAt) - Date.now() } : undefined;
    if (!slot || slot.waitMs < -limits.marginMs / 2) slot = await this.pacer.book(ctx.tenantId, api);
    if (slot.waitMs > WAIT_IN_PLACE_MS) {
      return {
        status: 'running',
        waitingFor: 'capacity',
        summary: `waiting for Defender capacity: ${api} allows ${limits.perMinute} calls a minute and ${limits.perHour} an hour per tenant`,
        pollAfterMs: slot.waitMs - WAIT_IN_PLACE_MS,
        state: { slotAt: slot.at.toISOString() },
      };
    }
    if (slot.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, slot.waitMs));
    return null;
  }

  /** Every indicator Cordon can see, by upsert key, and how many of them are active now. */
  private async inventory(tenantId: string): Promise<{ byKey: Map<string, DefenderIndicator>; active: number }> {
    const all = await this.client.list(tenantId);
    const now = Date.now();
    return {
      byKey: new Map(all.map((i) => [indicatorKey(i.indicatorType, i.indicatorValue), i])),
      active: all.filter((i) => !isExpired(i.expirationTime, now)).length,
    };
  }

  private limitReached(active: number, adding: number): StepError {
    return new StepError(
      'indicator-limit-reached',
      `The tenant has ${active} active indicators; ${adding === 1 ? 'a new one' : `${adding} new ones`} would pass the limit of ${this.limit} (microsoft-notes M46). Remove or let some expire first; nothing was sent to Defender.`,
    );
  }

  private submitStep(): StepDefinition {
    return {
      name: 'submit-indicator',
      preview: async (ctx) => {
        const spec = ctx.params as unknown as IndicatorSpec;
        try {
          const { byKey, active } = await this.inventory(ctx.tenantId);
          const existing = byKey.get(indicatorKey(spec.type, spec.value));
          if (existing) {
            return {
              wouldChange: `updates indicator ${existing.id} (${describe(spec)}): action ${existing.action} → ${spec.action}, expires ${spec.expiresAt}`,
              changes: true,
            };
          }
          if (active >= this.limit) return { wouldChange: `nothing: ${this.limitReached(active, 1).message}`, changes: false };
          return {
            wouldChange: `creates a ${spec.action} indicator for ${describe(spec)}, expiring ${spec.expiresAt} (${active + 1} of ${this.limit} active)`,
            changes: true,
          };
        } catch (error) {
          throw toDefenderStepError(error, PERMISSION);
        }
      },
      run: async (ctx): Promise<StepOutcome | StepInProgress> => {
        const spec = ctx.params as unknown as IndicatorSpec;
        try {
          const existing = await this.client.find(ctx.tenantId, spec.type, spec.value);
          if (!existing) {
            const { active } = await this.inventory(ctx.tenantId);
            if (active >= this.limit) throw this.limitReached(active, 1);
          }
          const parked = await this.turn(ctx, INDICATOR_APIS.submit);
          if (parked) return parked;
          const { body, requestId } = await this.client.submit(ctx.tenantId, defenderIndicatorBody(spec, ctx.reason), ctx.clientRequestId);
          // Read back: Defender should now hold one indicator for the pair, with the action asked for.
          const after = await this.client.find(ctx.tenantId, spec.type, spec.value);
          const verified = after !== undefined && String(after.id) === String(body.id) && after.action === spec.action;
          const id = String(body.id);
          return {
            status: 'succeeded',
            summary: `${existing ? `updated indicator ${id}` : `created indicator ${id}`}: ${spec.action} ${describe(spec)} until ${spec.expiresAt}`,
            verified,
            ...(requestId ? { microsoftRequestId: requestId } : {}),
            detail: { indicatorId: id, created: !existing, action: body.action, expirationTime: body.expirationTime ?? null },
            result: { indicator: { id, type: spec.type, value: spec.value, action: body.action, expiresAt: body.expirationTime ?? null, created: !existing } },
          };
        } catch (error) {
          throw toDefenderStepError(error, PERMISSION);
        }
      },
    };
  }

  private importStep(): StepDefinition {
    const specsOf = (ctx: StepContext) => ctx.params.indicators as IndicatorSpec[];
    return {
      name: 'import-indicators',
      preview: async (ctx) => {
        const specs = specsOf(ctx);
        try {
          const { byKey, active } = await this.inventory(ctx.tenantId);
          const updates = specs.filter((s) => byKey.has(indicatorKey(s.type, s.value))).length;
          const creates = specs.length - updates;
          if (creates > 0 && active + creates > this.limit) return { wouldChange: `nothing: ${this.limitReached(active, creates).message}`, changes: false };
          return {
            wouldChange: `imports ${specs.length} indicators: ${creates} new, ${updates} updated (${active + creates} of ${this.limit} active)`,
            changes: true,
          };
        } catch (error) {
          throw toDefenderStepError(error, PERMISSION);
        }
      },
      run: async (ctx): Promise<StepOutcome | StepInProgress> => {
        const specs = specsOf(ctx);
        try {
          const before = await this.inventory(ctx.tenantId);
          const isNew = specs.map((s) => !before.byKey.has(indicatorKey(s.type, s.value)));
          const creates = isNew.filter(Boolean).length;
          if (creates > 0 && before.active + creates > this.limit) throw this.limitReached(before.active, creates);
          const parked = await this.turn(ctx, INDICATOR_APIS.import);
          if (parked) return parked;
          const { results, requestId } = await this.client.import(
            ctx.tenantId,
            specs.map((s) => defenderIndicatorBody(s, ctx.reason)),
            ctx.clientRequestId,
          );
          const items = specs.map((s, i) => this.itemOutcome(s, results[i], isNew[i]));
          const failed = items.filter((i) => i.outcome === 'failed');
          if (failed.length === specs.length) {
            throw new StepError(
              'indicator-import-failed',
              `Defender refused every indicator of the batch; first: ${failed[0].value}: ${failed[0].failureReason ?? 'no reason given'}`,
              { microsoftRequestId: requestId },
            );
          }
          const created = items.filter((i) => i.outcome === 'created').length;
          const updated = items.filter((i) => i.outcome === 'updated').length;
          return {
            status: 'succeeded',
            summary: `imported ${specs.length} indicators: ${created} created, ${updated} updated, ${failed.length} failed${failed.length ? ' (see result.indicators)' : ''}`,
            // Microsoft answers per item inside a 200 (microsoft-notes M45): a failed item is reported, not hidden.
            verified: failed.length === 0,
            ...(requestId ? { microsoftRequestId: requestId } : {}),
            detail: { created, updated, failed: failed.length },
            result: { indicators: items },
          };
        } catch (error) {
          throw toDefenderStepError(error, PERMISSION);
        }
      },
    };
  }

  private itemOutcome(spec: IndicatorSpec, result: ImportResult | undefined, isNew: boolean) {
    const base = { type: spec.type, value: spec.value };
    if (!result) return { ...base, outcome: 'failed' as const, id: null, failureReason: 'Defender returned no result for this item' };
    if (result.isFailed) return { ...base, outcome: 'failed' as const, id: null, failureReason: result.failureReason ?? null };
    return { ...base, outcome: isNew ? ('created' as const) : ('updated' as const), id: result.id === null ? null : String(result.id) };
  }

  private removeStep(): StepDefinition {
    return {
      name: 'remove-indicator',
      preview: async (ctx) => ({ wouldChange: `deletes indicator ${ctx.target.id} (${ctx.target.display}) from Defender`, changes: true }),
      run: async (ctx): Promise<StepOutcome | StepInProgress> => {
        try {
          const parked = await this.turn(ctx, INDICATOR_APIS.remove);
          if (parked) return parked;
          const { requestId } = await this.client.remove(ctx.tenantId, ctx.target.id, ctx.clientRequestId);
          return {
            status: 'succeeded',
            summary: `removed indicator ${ctx.target.id} (${ctx.target.display})`,
            verified: true,
            ...(requestId ? { microsoftRequestId: requestId } : {}),
            detail: { indicatorId: ctx.target.id, alreadyRemoved: false },
          };
        } catch (error) {
          if (error instanceof MicrosoftApiError && error.kind === 'not-found') {
            // microsoft-notes M45: a 404 on a repeat means the indicator is gone; that is the effect asked for.
            return {
              status: 'succeeded',
              summary: `indicator ${ctx.target.id} was already removed: Defender answered 404${ctx.attempt > 1 ? ' on this retry (an earlier attempt deleted it)' : ''}`,
              verified: true,
              microsoftRequestId: error.requestId,
              detail: { indicatorId: ctx.target.id, alreadyRemoved: true },
            };
          }
          throw toDefenderStepError(error, PERMISSION);
        }
      },
    };
  }
}
