import { Injectable, OnModuleInit } from '@nestjs/common';
import { ActionHandler, ActionTarget, ContainmentCheck, StepContext, StepDefinition } from '../../actions/action-handler';
import { ActionCatalogue } from '../../actions/action-catalogue';
import type { TenantGraphClient } from '../../microsoft';
import { TenantGraphs } from '../tenant-graphs';
import { toStepError } from './graph-step-errors';

interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  accountEnabled?: boolean;
  userType?: string;
  signInSessionsValidFromDateTime?: string;
}

interface DirectoryObject {
  id: string;
  '@odata.type'?: string;
  displayName?: string;
}

const USER_SELECT = 'id,userPrincipalName,displayName,accountEnabled,userType,signInSessionsValidFromDateTime';

/** Said plainly in every result that revokes sessions, so analysts are not misled (microsoft-notes §4.2). */
export const REVOCATION_NOTE =
  "Revoking sessions invalidates refresh tokens and browser session cookies (it can take a few minutes). Access tokens already issued stay valid until they expire, typically 60–90 minutes, unless the resource supports continuous access evaluation. Guest users' sessions live in their home tenant and are not revoked.";

/**
 * Entra ID user containment: the handlers of the user.* action types. Each step reads the current
 * state first (an already disabled account is a success), makes the change, and reads it back.
 */
@Injectable()
export class UserActions implements OnModuleInit {
  constructor(
    private readonly catalogue: ActionCatalogue,
    private readonly graphs: TenantGraphs,
  ) {}

  onModuleInit(): void {
    const steps = {
      disable: this.accountStep('disable-sign-in', false),
      enable: this.accountStep('enable-sign-in', true),
      revoke: this.revokeStep(),
      confirm: this.confirmCompromisedStep(),
    };
    const handler = (type: string, list: StepDefinition[], extra: Partial<ActionHandler> = {}): ActionHandler => ({
      type,
      targetKind: 'user',
      requiredCapabilities: ['user-actions'],
      resolve: (tenantId, requested) => this.resolveUser(tenantId, requested),
      steps: () => list,
      ...extra,
    });
    // Disable first, then revoke (microsoft-notes §4.2: containment order).
    // Time-boxed containment: the inverse the engine runs when the release is due, and the drift check's read.
    const signInCheck = (tenantId: string, target: ActionTarget) => this.signInDisabled(tenantId, target);
    this.catalogue.register(
      handler('user.isolate', [steps.disable, steps.revoke, steps.confirm], {
        notes: [REVOCATION_NOTE],
        release: { type: 'user.release', check: signInCheck },
      }),
    );
    this.catalogue.register(handler('user.release', [steps.enable]));
    this.catalogue.register(handler('user.revoke-sessions', [steps.revoke], { notes: [REVOCATION_NOTE] }));
    this.catalogue.register(handler('user.disable', [steps.disable], { release: { type: 'user.enable', check: signInCheck } }));
    this.catalogue.register(handler('user.enable', [steps.enable]));
    this.catalogue.register(handler('user.confirm-compromised', [steps.confirm], { requiredCapabilities: ['user-actions', 'identity-protection'] }));
  }

  private graph(tenantId: string): Promise<TenantGraphClient> {
    return this.graphs.of(tenantId);
  }

  /** One Graph read of the user and one of its memberships (groups for policy, roles for errors). */
  async resolveUser(tenantId: string, requested: string): Promise<ActionTarget> {
    const graph = await this.graph(tenantId);
    try {
      const user = await graph.get<GraphUser>(`/users/${encodeURIComponent(requested)}`, { query: { $select: USER_SELECT } });
      const memberOf = await graph.all<DirectoryObject>(`/users/${user.id}/memberOf`, { query: { $select: 'id,displayName' } });
      const roles = memberOf.filter((o) => o['@odata.type'] === '#microsoft.graph.directoryRole').map((o) => o.displayName ?? o.id);
      const groups = memberOf.filter((o) => o['@odata.type'] !== '#microsoft.graph.directoryRole').map((o) => o.id.toLowerCase());
      return {
        requested,
        id: user.id,
        display: user.userPrincipalName,
        identities: [user.id.toLowerCase(), user.userPrincipalName.toLowerCase()],
        groups,
        details: {
          userPrincipalName: user.userPrincipalName,
          displayName: user.displayName ?? null,
          userType: user.userType ?? 'Member',
          directoryRoles: roles,
        },
      };
    } catch (error) {
      throw toStepError(error, 'read');
    }
  }

  /** The drift check of a sign-in containment: one Graph read of accountEnabled (the read the steps verify with). */
  private async signInDisabled(tenantId: string, target: ActionTarget): Promise<ContainmentCheck> {
    try {
      const user = await (await this.graph(tenantId)).get<GraphUser>(`/users/${target.id}`, { query: { $select: 'id,accountEnabled' } });
      return user.accountEnabled === false
        ? { holds: true, found: 'sign-in is disabled (accountEnabled false)' }
        : {
            holds: false,
            found: `sign-in is enabled again (accountEnabled ${String(user.accountEnabled)})`,
            detail: { accountEnabled: user.accountEnabled ?? null },
          };
    } catch (error) {
      throw toStepError(error, 'read');
    }
  }

  private roles(ctx: StepContext): string[] {
    return ((ctx.target.details?.directoryRoles as string[] | undefined) ?? []).slice();
  }

  accountStep(name: string, enabled: boolean): StepDefinition {
    const op = enabled ? 'enable' : 'disable';
    const read = async (ctx: StepContext) =>
      (await this.graph(ctx.tenantId)).get<GraphUser>(`/users/${ctx.target.id}`, {
        query: { $select: 'id,accountEnabled' },
        clientRequestId: ctx.clientRequestId,
      });
    return {
      name,
      preview: async (ctx) => {
        const user = await read(ctx).catch((e) => Promise.reject(toStepError(e, 'read')));
        return user.accountEnabled === enabled
          ? { wouldChange: `nothing: sign-in is already ${enabled ? 'enabled' : 'disabled'}`, changes: false }
          : { wouldChange: `accountEnabled ${String(user.accountEnabled)} → ${enabled}`, changes: true };
      },
      run: async (ctx) => {
        try {
          const graph = await this.graph(ctx.tenantId);
          const before = await read(ctx);
          if (before.accountEnabled === enabled)
            return { status: 'succeeded', summary: `sign-in was already ${enabled ? 'enabled' : 'disabled'}`, verified: true, detail: { changed: false } };
          await graph.patch(`/users/${ctx.target.id}`, { accountEnabled: enabled }, { clientRequestId: ctx.clientRequestId });
          const after = await read(ctx);
          const verified = after.accountEnabled === enabled;
          return {
            status: 'succeeded',
            summary: verified
              ? `${enabled ? 'enabled' : 'disabled'} sign-in`
              : `Microsoft accepted the change but the account still reads accountEnabled=${String(after.accountEnabled)}`,
            verified,
            detail: { changed: true, accountEnabled: after.accountEnabled },
          };
        } catch (error) {
          throw toStepError(error, op, this.roles(ctx));
        }
      },
    };
  }

  revokeStep(): StepDefinition {
    const readValidFrom = async (ctx: StepContext) =>
      (
        await (
          await this.graph(ctx.tenantId)
        ).get<GraphUser>(`/users/${ctx.target.id}`, { query: { $select: 'id,signInSessionsValidFromDateTime' }, clientRequestId: ctx.clientRequestId })
      ).signInSessionsValidFromDateTime;
    return {
      name: 'revoke-sessions',
      preview: async (ctx) => ({
        wouldChange: `signInSessionsValidFromDateTime → now (refresh tokens and session cookies issued before it stop working)`,
        changes: true,
        ...(ctx.target.details?.userType === 'Guest' ? { wouldChange: 'a guest: sessions live in the home tenant and are not revoked by this tenant' } : {}),
      }),
      run: async (ctx) => {
        try {
          const before = await readValidFrom(ctx);
          const requestedAt = Date.now();
          // 200 {value:true} or 204: both are success (microsoft-notes §4.2, M15).
          await (await this.graph(ctx.tenantId)).post(`/users/${ctx.target.id}/revokeSignInSessions`, {}, { clientRequestId: ctx.clientRequestId });
          const after = await readValidFrom(ctx);
          const verified = after !== undefined && (before === undefined || Date.parse(after) > Date.parse(before) || sameSecond(after, requestedAt));
          return {
            status: 'succeeded',
            summary: verified
              ? `sessions revoked (valid from ${after})`
              : 'Microsoft accepted the revocation but signInSessionsValidFromDateTime has not moved yet (it can take a few minutes)',
            verified,
            detail: { signInSessionsValidFromDateTime: { before: before ?? null, after: after ?? null } },
          };
        } catch (error) {
          throw toStepError(error, 'revoke', this.roles(ctx));
        }
      },
    };
  }

  private confirmCompromisedStep(): StepDefinition {
    const unavailable = (ctx: StepContext) => ctx.capabilities['identity-protection'] !== 'available';
    return {
      name: 'confirm-compromised',
      preview: async (ctx) =>
        unavailable(ctx)
          ? {
              wouldChange: `skipped: Identity Protection is ${ctx.capabilities['identity-protection'] ?? 'unknown'} for this tenant (needs Entra ID P2)`,
              changes: false,
            }
          : { wouldChange: 'riskState → confirmedCompromised, riskLevel → high', changes: true },
      run: async (ctx) => {
        if (unavailable(ctx)) {
          return {
            status: 'skipped',
            summary: `Identity Protection is ${ctx.capabilities['identity-protection'] ?? 'unknown'} for this tenant (needs Entra ID P2); the user was not marked compromised`,
          };
        }
        try {
          const graph = await this.graph(ctx.tenantId);
          await graph.post('/identityProtection/riskyUsers/confirmCompromised', { userIds: [ctx.target.id] }, { clientRequestId: ctx.clientRequestId });
          const risky = await graph
            .get<{ riskState?: string; riskLevel?: string }>(`/identityProtection/riskyUsers/${ctx.target.id}`, { clientRequestId: ctx.clientRequestId })
            .catch(() => undefined);
          const verified = risky?.riskState === 'confirmedCompromised';
          return {
            status: 'succeeded',
            summary: verified ? 'marked compromised (risk high)' : 'Microsoft accepted it but the risky user does not read confirmedCompromised yet',
            verified,
            detail: { riskState: risky?.riskState ?? null, riskLevel: risky?.riskLevel ?? null },
          };
        } catch (error) {
          throw toStepError(error, 'confirm');
        }
      },
    };
  }
}

/**
 * Graph keeps signInSessionsValidFromDateTime to the second, so a revocation in the same second as an
 * earlier one (a step retried after a crash, two playbooks at once) leaves it where it was: the value
 * is then the second of our request (within a second of clock difference), which is the effect asked for.
 */
function sameSecond(validFrom: string, requestedAt: number): boolean {
  return Math.abs(Date.parse(validFrom) - Math.floor(requestedAt / 1000) * 1000) <= 1000;
}
