import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { absent, EvidenceSnapshots, type SnapshotInput } from '../../actions/evidence/evidence-snapshots';
import { MicrosoftApiError } from '../../microsoft';
import { TenantGraphs } from '../tenant-graphs';
import { SIGN_INS_SOURCE } from './entra-log.collectors';
import { listMethods, listRules } from './persistence-graph';

const USER_FIELDS =
  'id,userPrincipalName,displayName,mail,jobTitle,accountEnabled,userType,signInSessionsValidFromDateTime,lastPasswordChangeDateTime,onPremisesSyncEnabled';
/** Groups and roles beyond this many are counted, not listed (the snapshot lives in the audit log). */
const MAX_MEMBERSHIPS = 200;
const RECENT_SIGN_INS = 20;

const missing = (capabilities: Record<string, string>, name: string, why: string) =>
  capabilities[name] === 'available' ? null : absent(`${why} (capability ${name}: ${capabilities[name] ?? 'not probed yet'})`);

/**
 * What a user looked like before Cordon changed it (issue 21, ARCHITECTURE.md §5.7): the user object, its
 * groups and directory roles, its sign-in methods (types and masked details, never secrets), its risk, its
 * last sign-ins from Cordon's store and its inbox rules — each where the tenant can show it.
 */
@Injectable()
export class UserSnapshot implements OnModuleInit {
  constructor(
    private readonly snapshots: EvidenceSnapshots,
    private readonly graphs: TenantGraphs,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.snapshots.register('user', 'user', (i) => this.user(i));
    this.snapshots.register('user', 'memberships', (i) => this.memberships(i));
    this.snapshots.register('user', 'authMethods', (i) => this.authMethods(i));
    this.snapshots.register('user', 'risk', (i) => this.risk(i));
    this.snapshots.register('user', 'recentSignIns', (i) => this.recentSignIns(i));
    this.snapshots.register('user', 'inboxRules', (i) => this.inboxRules(i));
  }

  private async user({ tenantId, target }: SnapshotInput) {
    return (await this.graphs.of(tenantId)).get<Record<string, unknown>>(`/users/${target.id}`, { query: { $select: USER_FIELDS } });
  }

  private async memberships({ tenantId, target }: SnapshotInput) {
    const graph = await this.graphs.of(tenantId);
    const all = await graph.all<{ id: string; '@odata.type'?: string; displayName?: string }>(`/users/${target.id}/memberOf`, {
      query: { $select: 'id,displayName' },
    });
    const isRole = (o: { '@odata.type'?: string }) => o['@odata.type'] === '#microsoft.graph.directoryRole';
    const list = (objects: typeof all) => objects.slice(0, MAX_MEMBERSHIPS).map((o) => ({ id: o.id, displayName: o.displayName ?? null }));
    const groups = all.filter((o) => !isRole(o));
    const roles = all.filter(isRole);
    return { groups: list(groups), groupCount: groups.length, directoryRoles: list(roles), directoryRoleCount: roles.length };
  }

  private async authMethods({ tenantId, target, capabilities }: SnapshotInput) {
    const no = missing(capabilities, 'auth-methods', 'Cordon may not read sign-in methods');
    if (no) return no;
    const methods = await listMethods(await this.graphs.of(tenantId), target.id);
    return methods.map(({ id, type, createdDateTime, detail }) => ({ id, type, createdDateTime, detail }));
  }

  private async risk({ tenantId, target, capabilities }: SnapshotInput) {
    const no = missing(capabilities, 'identity-protection', 'risk needs Entra ID P2');
    if (no) return no;
    try {
      const risky = await (await this.graphs.of(tenantId)).get<Record<string, unknown>>(`/identityProtection/riskyUsers/${target.id}`);
      const { riskLevel, riskState, riskDetail, riskLastUpdatedDateTime } = risky;
      return { riskLevel, riskState, riskDetail, riskLastUpdatedDateTime };
    } catch (error) {
      // Identity Protection lists only users it has seen at risk.
      if (error instanceof MicrosoftApiError && error.kind === 'not-found') return { riskLevel: 'none', riskState: 'none' };
      throw error;
    }
  }

  private async recentSignIns({ tenantId, target }: SnapshotInput) {
    const upn = String((target.details?.userPrincipalName as string | undefined) ?? target.display).toLowerCase();
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT occurred_at AS "at", operation, result_status AS "result", host(client_ip) AS "ip",
              raw->>'appDisplayName' AS "app", raw->'location'->>'city' AS "city", raw->'location'->>'countryOrRegion' AS "country",
              raw->>'riskLevelDuringSignIn' AS "risk", raw->>'conditionalAccessStatus' AS "conditionalAccess"
         FROM events WHERE tenant_id = $1 AND source = $2 AND user_id = ANY($3) ORDER BY occurred_at DESC LIMIT $4`,
      [tenantId, SIGN_INS_SOURCE, [upn, target.id.toLowerCase()], RECENT_SIGN_INS],
    );
    return { source: "Cordon's store of Entra sign-in logs", signIns: rows.map((r) => ({ ...r, at: new Date(r.at as string).toISOString() })) };
  }

  private async inboxRules({ tenantId, target, capabilities }: SnapshotInput) {
    const no = missing(capabilities, 'mailbox-rules', 'Cordon may not read inbox rules');
    if (no) return no;
    return listRules(await this.graphs.of(tenantId), target.id);
  }
}
