import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ActionHandler, ActionTarget, StepContext, StepDefinition, StepOutcome } from '../../actions/action-handler';
import { ActionCatalogue } from '../../actions/action-catalogue';
import type { TenantGraphClient } from '../../microsoft';
import { TenantGraphs } from '../tenant-graphs';
import { ALERT_CHANGE_FIELDS, INCIDENT_CHANGE_FIELDS } from './dto/xdr-actions.dto';
import { GraphSecurityCollector, PREFER_UNKNOWN_ENUMS } from './graph-security.collector';
import { toXdrStepError, type XdrKind } from './xdr-step-errors';

type Raw = Record<string, unknown>;

interface KindSpec {
  kind: XdrKind;
  path: (id: string) => string;
  stream: 'alerts' | 'incidents';
  fields: readonly string[];
  title: (raw: Raw) => unknown;
}

const KINDS: Record<XdrKind, KindSpec> = {
  alert: {
    kind: 'alert',
    path: (id) => `/security/alerts_v2/${encodeURIComponent(id)}`,
    stream: 'alerts',
    fields: ALERT_CHANGE_FIELDS,
    title: (raw) => raw.title,
  },
  incident: {
    kind: 'incident',
    path: (id) => `/security/incidents/${encodeURIComponent(id)}`,
    stream: 'incidents',
    fields: INCIDENT_CHANGE_FIELDS,
    title: (raw) => raw.displayName,
  },
};

/** The marker a Cordon comment ends with: a retry finds its own comment by it (microsoft-notes M33). */
export function commentMarker(actionId: string): string {
  return `[cordon:${actionId}]`;
}

export function commentText(comment: string, actionId: string): string {
  return `${comment} ${commentMarker(actionId)}`;
}

/** A field as Microsoft holds it, for comparing and showing: enums compare case-insensitively, tags as a set. */
function shown(field: string, value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (field === 'customTags') return Array.isArray(value) ? `[${value.map(String).join(', ')}]` : JSON.stringify(value);
  return String(value);
}

function same(field: string, current: unknown, wanted: unknown): boolean {
  if (field === 'customTags') {
    const have = Array.isArray(current) ? current.map(String).sort() : [];
    const want = Array.isArray(wanted) ? wanted.map(String).sort() : [];
    return have.length === want.length && have.every((t, i) => t === want[i]);
  }
  if (field === 'assignedTo') return (current ?? null) === (wanted ?? null);
  return typeof current === 'string' && typeof wanted === 'string' && current.toLowerCase() === wanted.toLowerCase();
}

/** The fields of `wanted` that differ from `current`, as { field: [before, after] }. Unknown values Microsoft holds are compared, never refused. */
export function differences(fields: readonly string[], current: Raw, wanted: Raw): Array<[string, unknown, unknown]> {
  return fields.filter((f) => wanted[f] !== undefined && !same(f, current[f], wanted[f])).map((f) => [f, current[f] ?? null, wanted[f]]);
}

/**
 * Defender XDR's own record of an alert or incident: status, classification, determination, owner,
 * tags and comments (alert.update, alert.comment, incident.update, incident.comment). Each step reads
 * the object first, changes only what differs, reads it back, and stores what it read back as Cordon's
 * copy (so GET /v1/alerts shows it before the next collection run).
 */
@Injectable()
export class XdrActions implements OnModuleInit {
  private readonly logger = new Logger(XdrActions.name);

  constructor(
    private readonly catalogue: ActionCatalogue,
    private readonly graphs: TenantGraphs,
    private readonly collector: GraphSecurityCollector,
  ) {}

  onModuleInit(): void {
    for (const spec of Object.values(KINDS)) {
      const base = {
        targetKind: spec.kind,
        requiredCapabilities: [`${spec.kind}-actions`],
        resolve: (tenantId: string, requested: string) => this.resolve(spec, tenantId, requested),
      } satisfies Partial<ActionHandler>;
      const update = this.updateStep(spec);
      const comment = this.commentStep(spec);
      this.catalogue.register({ ...base, type: `${spec.kind}.update`, steps: () => [update] });
      this.catalogue.register({ ...base, type: `${spec.kind}.comment`, steps: () => [comment] });
    }
  }

  private graph(tenantId: string): Promise<TenantGraphClient> {
    return this.graphs.of(tenantId);
  }

  /** The object as Microsoft holds it now; newer enum members as they are (microsoft-notes M10). */
  private async read(spec: KindSpec, tenantId: string, id: string, clientRequestId?: string): Promise<Raw> {
    const graph = await this.graph(tenantId);
    return graph.get<Raw>(spec.path(id), { headers: PREFER_UNKNOWN_ENUMS, ...(clientRequestId ? { clientRequestId } : {}) });
  }

  private async resolve(spec: KindSpec, tenantId: string, requested: string): Promise<ActionTarget> {
    try {
      const raw = await this.read(spec, tenantId, requested);
      const id = String(raw.id);
      const title = spec.title(raw);
      return {
        requested,
        id,
        display: typeof title === 'string' && title ? title : `${spec.kind} ${id}`,
        identities: [id.toLowerCase()],
        groups: [],
        details: Object.fromEntries(
          ['status', 'classification', 'determination', 'assignedTo', 'severity', 'incidentId'].filter((f) => f in raw).map((f) => [f, raw[f]]),
        ),
      };
    } catch (error) {
      throw toXdrStepError(error, spec.kind, requested);
    }
  }

  /** Stores the object read back as Cordon's copy; a failure here is reported, the change at Microsoft stands. */
  private async storeCopy(spec: KindSpec, tenantId: string, raw: Raw): Promise<boolean> {
    try {
      return await this.collector.storeObject(tenantId, spec.stream, raw);
    } catch (error) {
      this.logger.warn({ err: error, tenantId, id: raw.id }, `the ${spec.kind} read back was not stored; the next collection run stores it`);
      return false;
    }
  }

  private wanted(spec: KindSpec, params: Record<string, unknown>): Raw {
    return Object.fromEntries(spec.fields.filter((f) => params[f] !== undefined).map((f) => [f, params[f]]));
  }

  private updateStep(spec: KindSpec): StepDefinition {
    const describe = (diff: Array<[string, unknown, unknown]>) => diff.map(([f, before, after]) => `${f} ${shown(f, before)} → ${shown(f, after)}`).join(', ');
    return {
      name: `update-${spec.kind}`,
      preview: async (ctx) => {
        const current = await this.read(spec, ctx.tenantId, ctx.target.id).catch((e) => Promise.reject(toXdrStepError(e, spec.kind, ctx.target.id)));
        const diff = differences(spec.fields, current, this.wanted(spec, ctx.params));
        return diff.length === 0
          ? { wouldChange: `nothing: the ${spec.kind} already reads so`, changes: false }
          : { wouldChange: describe(diff), changes: true };
      },
      run: async (ctx): Promise<StepOutcome> => {
        try {
          const wanted = this.wanted(spec, ctx.params);
          const before = await this.read(spec, ctx.tenantId, ctx.target.id, ctx.clientRequestId);
          const diff = differences(spec.fields, before, wanted);
          if (diff.length === 0) {
            const stored = await this.storeCopy(spec, ctx.tenantId, before);
            return { status: 'succeeded', summary: `the ${spec.kind} already read so`, verified: true, detail: { changed: false, storedCopy: stored } };
          }
          const body = Object.fromEntries(diff.map(([f, , after]) => [f, after]));
          await (await this.graph(ctx.tenantId)).patch(spec.path(ctx.target.id), body, { headers: PREFER_UNKNOWN_ENUMS, clientRequestId: ctx.clientRequestId });
          const after = await this.read(spec, ctx.tenantId, ctx.target.id, ctx.clientRequestId);
          const left = differences(spec.fields, after, wanted);
          const stored = await this.storeCopy(spec, ctx.tenantId, after);
          return {
            status: 'succeeded',
            summary:
              left.length === 0
                ? `updated ${describe(diff)}`
                : `Microsoft accepted the change but the ${spec.kind} still reads ${describe(left.map(([f, now, want]) => [f, now, want]))}`,
            verified: left.length === 0,
            detail: {
              changed: true,
              changes: Object.fromEntries(diff.map(([f, was]) => [f, { before: was, after: after[f] ?? null }])),
              storedCopy: stored,
            },
          };
        } catch (error) {
          throw toXdrStepError(error, spec.kind, ctx.target.id);
        }
      },
    };
  }

  /**
   * Comments are append-only and a POST is not idempotent (microsoft-notes M33): the comment carries the
   * action's marker, and a step run again (attempt > 1: an earlier run may have posted before it died)
   * adopts the comment with that marker instead of posting a second one.
   */
  private commentStep(spec: KindSpec): StepDefinition {
    const ours = (raw: Raw, actionId: string) =>
      (Array.isArray(raw.comments) ? (raw.comments as Raw[]) : []).find((c) => typeof c.comment === 'string' && c.comment.includes(commentMarker(actionId)));
    return {
      name: `comment-${spec.kind}`,
      preview: async (ctx) => ({ wouldChange: `adds the comment "${commentText(String(ctx.params.comment), ctx.actionId)}"`, changes: true }),
      run: async (ctx: StepContext): Promise<StepOutcome> => {
        try {
          const text = commentText(String(ctx.params.comment), ctx.actionId);
          if (ctx.attempt > 1) {
            const current = await this.read(spec, ctx.tenantId, ctx.target.id, ctx.clientRequestId);
            const found = ours(current, ctx.actionId);
            if (found) {
              const stored = await this.storeCopy(spec, ctx.tenantId, current);
              return {
                status: 'succeeded',
                summary: 'the comment was posted by an earlier attempt (found by its marker); not posted again',
                verified: true,
                detail: { posted: false, adopted: true, comment: found.comment, createdDateTime: found.createdDateTime ?? null, storedCopy: stored },
              };
            }
          }
          await (
            await this.graph(ctx.tenantId)
          ).post(
            `${spec.path(ctx.target.id)}/comments`,
            { '@odata.type': 'microsoft.graph.security.alertComment', comment: text },
            { clientRequestId: ctx.clientRequestId },
          );
          const after = await this.read(spec, ctx.tenantId, ctx.target.id, ctx.clientRequestId);
          const found = ours(after, ctx.actionId);
          const stored = await this.storeCopy(spec, ctx.tenantId, after);
          return {
            status: 'succeeded',
            summary: found ? 'comment added' : `Microsoft accepted the comment but the ${spec.kind} does not list it yet`,
            verified: found !== undefined,
            detail: { posted: true, adopted: false, comment: text, createdDateTime: found?.createdDateTime ?? null, storedCopy: stored },
          };
        } catch (error) {
          throw toXdrStepError(error, spec.kind, ctx.target.id);
        }
      },
    };
  }
}
