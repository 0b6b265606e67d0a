import { Injectable } from '@nestjs/common';
import type { Principal } from '../../access/principal';
import { problems } from '../../common/problem';
import { TenantsService } from '../../tenants/tenants.service';
import type { SecureScoreChange, SecureScoreResponse, SecureScoreSnapshot } from './dto/secure-score.dto';
import type { SecureScoreSnapshotEntity, SnapshotControl } from './secure-score-snapshot.entity';
import { SecureScoreRepository } from './secure-score.repository';

/** The configuration audit view: the latest Secure Score and what changed since the one before. */
@Injectable()
export class SecureScoreService {
  constructor(
    private readonly repository: SecureScoreRepository,
    private readonly tenants: TenantsService,
  ) {}

  async get(principal: Principal, tenantId: string): Promise<SecureScoreResponse> {
    const tenant = await this.tenants.findVisible(principal, tenantId);
    const [latest, previous] = await this.repository.latestTwo(tenant.id);
    if (!latest)
      throw problems.notFound(`No Secure Score collected yet for tenant ${tenantId}; see the SecureScore source in GET /v1/tenants/${tenantId}/collection.`);
    return {
      tenantId: tenant.id,
      latest: { ...summary(latest), controls: latest.controls },
      previous: previous ? summary(previous) : null,
      change: previous ? diff(previous, latest) : null,
    };
  }
}

function summary(s: SecureScoreSnapshotEntity): SecureScoreSnapshot {
  return {
    scoredAt: s.scoredAt.toISOString(),
    currentScore: s.currentScore,
    maxScore: s.maxScore,
    percentage: s.maxScore > 0 ? Math.round((s.currentScore / s.maxScore) * 10_000) / 100 : null,
    collectedAt: s.collectedAt.toISOString(),
  };
}

/** Controls compared by name; a control counts as changed when its score or its state differs. */
export function diff(before: SecureScoreSnapshotEntity, after: SecureScoreSnapshotEntity): SecureScoreChange {
  const old = new Map(before.controls.map((c) => [c.name, c]));
  const now = new Map(after.controls.map((c) => [c.name, c]));
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  const state = (c: SnapshotControl | undefined) => (c ? { score: c.score, state: c.state } : null);
  const controls = names
    .filter((name) => {
      const a = old.get(name);
      const b = now.get(name);
      return !a || !b || a.score !== b.score || a.state !== b.state;
    })
    .map((name) => {
      const c = (now.get(name) ?? old.get(name))!;
      return { name, title: c.title, category: c.category, before: state(old.get(name)), after: state(now.get(name)) };
    });
  return { scoreDelta: round(after.currentScore - before.currentScore), maxScoreDelta: round(after.maxScore - before.maxScore), controls };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
