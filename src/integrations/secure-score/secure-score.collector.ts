import { Injectable, OnModuleInit } from '@nestjs/common';
import type { CollectContext, CollectSink, Collector } from '../../collection/collector';
import { CollectorRegistry } from '../../collection/collector-registry';
import { GraphClientFactory } from '../../microsoft';
import type { SnapshotControl } from './secure-score-snapshot.entity';
import { SecureScoreRepository } from './secure-score.repository';

export const SECURE_SCORE_SOURCE = 'secure-score';
export const SECURE_SCORE_STREAM = 'SecureScore';

type Json = Record<string, unknown>;

/**
 * Microsoft Secure Score as a configuration audit (microsoft-notes §3.1): Microsoft computes one
 * `secureScore` a day (`$top=1` is the latest). Each run reads the latest; when its date is past the
 * cursor, it reads the control profiles too (following nextLinks) and stores the day's snapshot,
 * then moves the cursor to that date. A run between two scores costs one request.
 */
@Injectable()
export class SecureScoreCollector implements Collector, OnModuleInit {
  readonly source = SECURE_SCORE_SOURCE;
  readonly streams = [{ name: SECURE_SCORE_STREAM, capability: 'secure-score' }];

  constructor(
    private readonly graphs: GraphClientFactory,
    private readonly registry: CollectorRegistry,
    private readonly repository: SecureScoreRepository,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  async run(ctx: CollectContext, sink: CollectSink): Promise<void> {
    const graph = this.graphs.forTenant(ctx.credentials);
    const latest = (await graph.get<{ value?: Json[] }>('/security/secureScores', { query: { $top: 1 } })).value?.[0];
    const scoredAt = typeof latest?.createdDateTime === 'string' ? new Date(latest.createdDateTime) : null;
    if (!latest || !scoredAt || Number.isNaN(scoredAt.getTime())) return; // no score computed yet for this tenant
    sink.window(ctx.cursor ?? scoredAt, scoredAt);
    if (ctx.cursor && scoredAt <= ctx.cursor) return; // this day's snapshot is stored already
    const profiles = await graph.all<Json>('/security/secureScoreControlProfiles', { query: { $top: 200 } });
    await sink.storeObjects({
      newest: scoredAt,
      write: async (manager) => {
        const stored = await this.repository.insertSnapshot(manager, {
          tenantId: ctx.tenant.id,
          scoreId: String(latest.id ?? scoredAt.toISOString()),
          scoredAt,
          currentScore: numberOr(latest.currentScore, 0),
          maxScore: numberOr(latest.maxScore, 0),
          controls: mergeControls(latest, profiles),
          raw: latest,
          profiles,
        });
        return { inserted: stored ? 1 : 0, updated: 0, unchanged: stored ? 0 : 1 };
      },
    });
    await sink.advance(scoredAt);
  }
}

/**
 * Controls by name: the score from the day's `controlScores`, title, category and maximum from the
 * profile, and the state from the profile's newest `controlStateUpdates` entry.
 */
export function mergeControls(score: Json, profiles: Json[]): SnapshotControl[] {
  const byName = new Map<string, SnapshotControl>();
  for (const p of profiles) {
    const name = text(p.id);
    if (!name) continue;
    byName.set(name, {
      name,
      title: text(p.title),
      category: text(p.controlCategory),
      score: null,
      maxScore: numberOr(p.maxScore, null),
      state: latestState(p.controlStateUpdates),
    });
  }
  for (const c of Array.isArray(score.controlScores) ? (score.controlScores as Json[]) : []) {
    const name = text(c?.controlName);
    if (!name) continue;
    const known = byName.get(name) ?? { name, title: null, category: text(c.controlCategory), score: null, maxScore: null, state: null };
    byName.set(name, { ...known, score: numberOr(c.score, null) });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function latestState(updates: unknown): string | null {
  if (!Array.isArray(updates)) return null;
  let newest: { at: number; state: string } | null = null;
  for (const u of updates as Json[]) {
    const state = text(u?.state);
    const at = Date.parse(String(u?.updatedDateTime ?? ''));
    if (state && (!newest || (Number.isFinite(at) ? at : -Infinity) >= newest.at)) newest = { at: Number.isFinite(at) ? at : -Infinity, state };
  }
  return newest?.state ?? null;
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
