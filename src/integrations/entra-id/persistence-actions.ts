import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { ActionCatalogue } from '../../actions/action-catalogue';
import { ActionHandler, ActionTarget, ContainmentCheck, StepContext, StepDefinition, StepError, StepOutcome } from '../../actions/action-handler';
import { Problem } from '../../common/problem';
import { MicrosoftApiError, type TenantGraphClient } from '../../microsoft';
import { graphHostOf } from '../../microsoft/clouds';
import { TenantPoliciesService } from '../../tenants/tenant-policies.service';
import { TenantsService } from '../../tenants/tenants.service';
import { PERSISTENCE_CAPABILITY } from './entra-id.capabilities';
import { toStepError } from './graph-step-errors';
import {
  AppConsent,
  AuthMethod,
  consentMatches,
  consentsSince,
  GRANT_DATE_NOTE,
  HIDDEN_RULES_NOTE,
  lastRegistrationSince,
  listConsents,
  listMethods,
  listRules,
  MessageRule,
  riskOf,
  RuleRisk,
  rulesPath,
  servicePrincipalByEitherId,
  verifiedDomains,
} from './persistence-graph';
import { TenantGraphs } from '../tenant-graphs';
import { REVOCATION_NOTE, UserActions } from './user-actions';

/** Microsoft's own tenants: their first-party apps are never disabled by Cordon. */
const MICROSOFT_TENANTS = ['f8cdef31-a31e-4b4a-93e4-5f571e91255a', '72f988bf-86f1-41af-91ab-2d7cd011db47'];
const ALTERNATE_MOBILE_ID = 'b6332ec1-7057-4abe-9331-3d72feddfe41';
const DAY_MS = 86_400_000;

const NO_UNDO_CONSENTS =
  'Removed consents and app role assignments cannot be restored by Cordon: the user (or an admin) must consent again, which creates new ids. The evidence keeps what was removed.';
const NO_UNDO_METHODS = 'Removed sign-in methods cannot be restored: the user registers them again. The evidence lists what was removed (without secrets).';
const PASSWORD_NOTE =
  'The new password is never stored, logged, audited or returned. The user must change it at next sign-in: give them a Temporary Access Pass or reset it with them once they are verified.';

/** `true` unless the body turned it off: the composite's steps default on. */
const on = (params: Record<string, unknown>, name: string) => params[name] !== false;

type Ruled = { rule: MessageRule; risk: RuleRisk };

/**
 * Evicting persistence (docs/microsoft-notes.md §9): inbox rules, consents, sign-in methods, the password,
 * the containment group and enterprise apps, one action type each, and `user.contain-bec`, which runs them
 * in the order that locks the attacker out first (microsoft-notes M30). Every step reads first, keeps what it removes as
 * evidence, makes the change and reads it back; a step run again after a crash finds its work done.
 */
@Injectable()
export class PersistenceActions implements OnModuleInit {
  private readonly domainCache = new Map<string, { domains: Promise<string[] | null>; until: number }>();

  constructor(
    private readonly catalogue: ActionCatalogue,
    private readonly graphs: TenantGraphs,
    private readonly users: UserActions,
    private readonly tenants: TenantsService,
    private readonly policies: TenantPoliciesService,
  ) {}

  onModuleInit(): void {
    const user = (type: string, capabilities: string[], steps: (p: Record<string, unknown>) => StepDefinition[], extra: Partial<ActionHandler> = {}) =>
      this.catalogue.register({
        type,
        targetKind: 'user',
        requiredCapabilities: capabilities,
        resolve: (tenantId, requested) => this.users.resolveUser(tenantId, requested),
        steps,
        ...extra,
      });
    user('user.remove-inbox-rules', [PERSISTENCE_CAPABILITY.rules], () => [this.removeRulesStep(false)], { notes: [HIDDEN_RULES_NOTE] });
    user('user.enable-inbox-rules', [PERSISTENCE_CAPABILITY.rules], () => [this.enableRulesStep()]);
    user('user.revoke-app-consents', [PERSISTENCE_CAPABILITY.consents], () => [this.revokeConsentsStep(false)], { notes: [NO_UNDO_CONSENTS, GRANT_DATE_NOTE] });
    user('user.remove-auth-methods', [PERSISTENCE_CAPABILITY.methods], () => [this.removeMethodsStep(false)], { notes: [NO_UNDO_METHODS] });
    user('user.reset-password', [PERSISTENCE_CAPABILITY.password], () => [this.resetPasswordStep(false)], {
      notes: [PASSWORD_NOTE],
      secretParams: ['password'],
    });
    const grouped = (tenantId: string, requested: string) => this.resolveWithGroup(tenantId, requested);
    user('user.add-to-containment-group', [PERSISTENCE_CAPABILITY.group], () => [this.groupStep(true, false)], {
      resolve: grouped,
      release: { type: 'user.remove-from-containment-group' },
    });
    user('user.remove-from-containment-group', [PERSISTENCE_CAPABILITY.group], () => [this.groupStep(false, false)], { resolve: grouped });
    user('user.contain-bec', ['user-actions'], (p) => this.becSteps(p), {
      notes: [REVOCATION_NOTE, HIDDEN_RULES_NOTE, NO_UNDO_CONSENTS, NO_UNDO_METHODS, PASSWORD_NOTE],
    });
    for (const enabled of [false, true]) {
      this.catalogue.register({
        type: enabled ? 'app.enable' : 'app.disable',
        targetKind: 'app',
        requiredCapabilities: [PERSISTENCE_CAPABILITY.apps],
        resolve: (tenantId, requested) => this.resolveApp(tenantId, requested),
        steps: () => [this.appStep(enabled)],
        ...(enabled
          ? {}
          : {
              release: { type: 'app.enable', check: (tenantId: string, target: ActionTarget) => this.appDisabled(tenantId, target) },
              notes: [
                'Disabling the enterprise app stops new sign-ins and token issuance for it; access tokens already issued stay valid until they expire (about an hour).',
              ],
            }),
      });
    }
  }

  /** The composite's steps, in the order of microsoft-notes M30: lock out, then evict, then contain. */
  private becSteps(params: Record<string, unknown>): StepDefinition[] {
    const steps: StepDefinition[] = [];
    if (on(params, 'disableSignIn')) steps.push(this.users.accountStep('disable-sign-in', false));
    if (on(params, 'revokeSessions')) steps.push(this.users.revokeStep());
    if (on(params, 'resetPassword')) steps.push(this.resetPasswordStep(true));
    if (on(params, 'removeInboxRules')) steps.push(this.removeRulesStep(true));
    if (on(params, 'revokeAppConsents')) steps.push(this.revokeConsentsStep(true));
    if (on(params, 'removeAuthMethods')) steps.push(this.removeMethodsStep(true));
    if (on(params, 'addToContainmentGroup')) steps.push(this.groupStep(true, true));
    return steps;
  }

  // ---- shared ------------------------------------------------------------------------------------

  private graph(ctx: { tenantId: string }): Promise<TenantGraphClient> {
    return this.graphs.of(ctx.tenantId);
  }

  /** The tenant's verified domains, read at most every 10 minutes. */
  private domains(tenantId: string, graph: TenantGraphClient): Promise<string[] | null> {
    const cached = this.domainCache.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.domains;
    const domains = verifiedDomains(graph);
    this.domainCache.set(tenantId, { domains, until: Date.now() + 600_000 });
    return domains;
  }

  /** In the composite, a step whose capability is missing is skipped with the reason; alone, admission refused it already. */
  private skippedFor(ctx: StepContext, capability: string, composite: boolean): StepOutcome | undefined {
    const status = ctx.capabilities[capability];
    if (!composite || status === 'available') return undefined;
    return {
      status: 'skipped',
      summary: `${capability} is ${status ?? 'not probed yet'} for this tenant (${PERSISTENCE_CAPABILITY.permissionOf(capability)})`,
    };
  }

  private since(ctx: StepContext): string {
    const days = typeof ctx.params.lookbackDays === 'number' ? ctx.params.lookbackDays : 30;
    return new Date(Date.now() - days * DAY_MS).toISOString();
  }

  private roles(ctx: StepContext): string[] {
    return ((ctx.target.details?.directoryRoles as string[] | undefined) ?? []).slice();
  }

  // ---- inbox rules -------------------------------------------------------------------------------

  private async rules(ctx: StepContext): Promise<{ all: Ruled[]; graph: TenantGraphClient }> {
    const graph = await this.graph(ctx);
    const [rules, domains] = await Promise.all([listRules(graph, ctx.target.id, ctx.clientRequestId), this.domains(ctx.tenantId, graph)]);
    return { graph, all: rules.map((rule) => ({ rule, risk: riskOf(rule, domains) })) };
  }

  /** The rules the request names (unknown ids named), or every rule with a risk flag. */
  private chooseRules(ctx: StepContext, all: Ruled[], composite: boolean): { chosen: Ruled[]; missing: string[] } {
    const ids = composite ? undefined : (ctx.params.ruleIds as string[] | undefined);
    if (!ids) return { chosen: all.filter((r) => r.risk.risky), missing: [] };
    return { chosen: all.filter((r) => ids.includes(r.rule.id)), missing: ids.filter((id) => !all.some((r) => r.rule.id === id)) };
  }

  private removeRulesStep(composite: boolean): StepDefinition {
    const modeOf = (ctx: StepContext) => ((composite ? ctx.params.inboxRuleMode : ctx.params.mode) === 'delete' ? 'delete' : 'disable');
    const describe = (r: Ruled) => {
      const flags = [
        r.risk.forwards.length ? `forwards to ${r.risk.forwards.map((f) => f.address).join(', ')}${r.risk.external ? ' (outside the tenant)' : ''}` : '',
        r.risk.deletes ? 'deletes' : '',
        r.risk.hides ? 'hides' : '',
      ].filter(Boolean);
      return `"${r.rule.displayName ?? r.rule.id}"${flags.length ? ` (${flags.join(', ')})` : ''}`;
    };
    return {
      name: 'remove-inbox-rules',
      preview: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.rules, composite);
        if (skipped) return { wouldChange: `skipped: ${skipped.summary}`, changes: false };
        const { all } = await this.rules(ctx).catch((e) => Promise.reject(toStepError(e, 'rules')));
        const { chosen, missing } = this.chooseRules(ctx, all, composite);
        if (missing.length) return { wouldChange: `fails: no inbox rule ${missing.join(', ')}`, changes: false };
        const mode = modeOf(ctx);
        const todo = chosen.filter((r) => !r.rule.isReadOnly && (mode === 'delete' || r.rule.isEnabled !== false));
        if (todo.length === 0) return { wouldChange: `nothing: ${chosen.length ? 'the rules are disabled already' : 'no risky inbox rule'}`, changes: false };
        return {
          wouldChange: `${mode} ${todo.map(describe).join('; ')}${mode === 'delete' ? ' — deleting cannot be undone (disable instead to keep a way back)' : ''}`,
          changes: true,
        };
      },
      run: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.rules, composite);
        if (skipped) return skipped;
        const mode = modeOf(ctx);
        try {
          const { all, graph } = await this.rules(ctx);
          const { chosen, missing } = this.chooseRules(ctx, all, composite);
          // A rule named and missing on a re-run was deleted by the run that died: that is done.
          if (missing.length && ctx.attempt === 1) throw new StepError('target-not-found', `${ctx.target.display} has no inbox rule ${missing.join(', ')}.`);
          const outcomes: Array<{ id: string; displayName: string | null; risk: RuleRisk; outcome: string }> = [];
          for (const { rule, risk } of chosen) {
            let outcome: string;
            if (rule.isReadOnly) outcome = 'read-only: Graph cannot change it';
            else if (mode === 'disable' && rule.isEnabled === false) outcome = 'already disabled';
            else {
              const path = `${rulesPath(ctx.target.id)}/${encodeURIComponent(rule.id)}`;
              if (mode === 'disable') await graph.patch(path, { isEnabled: false }, { clientRequestId: ctx.clientRequestId });
              else await graph.delete(path, { clientRequestId: ctx.clientRequestId });
              outcome = mode === 'disable' ? 'disabled' : 'deleted';
            }
            outcomes.push({ id: rule.id, displayName: rule.displayName ?? null, risk, outcome });
          }
          const after = await listRules(graph, ctx.target.id, ctx.clientRequestId);
          const changed = outcomes.filter((o) => o.outcome === 'disabled' || o.outcome === 'deleted');
          const verified = changed.every((o) =>
            o.outcome === 'deleted' ? !after.some((r) => r.id === o.id) : after.find((r) => r.id === o.id)?.isEnabled === false,
          );
          const summary =
            chosen.length === 0
              ? 'no risky inbox rule found (Graph shows server-side rules only)'
              : `${mode === 'delete' ? 'deleted' : 'disabled'} ${changed.length} of ${chosen.length} inbox rule(s)${verified ? '' : '; Graph does not show every change yet'}`;
          return {
            status: 'succeeded',
            summary,
            verified,
            detail: {
              mode,
              rules: outcomes,
              // What the rules were before: kept so that a disabled rule can be re-enabled and a deleted one re-created by hand.
              evidence: chosen.map((r) => r.rule),
              undo:
                mode === 'disable'
                  ? `POST /v1/tenants/${ctx.tenantId}/users/${ctx.target.id}/enable-inbox-rules {"ruleIds": [...]}`
                  : 'none: a deleted rule comes back only by re-creating it (evidence holds its JSON)',
              note: HIDDEN_RULES_NOTE,
            },
            result: { inboxRules: outcomes.map(({ id, outcome }) => ({ id, outcome })) },
          };
        } catch (error) {
          throw toStepError(error, 'rules');
        }
      },
    };
  }

  private enableRulesStep(): StepDefinition {
    const ids = (ctx: StepContext) => (ctx.params.ruleIds as string[] | undefined) ?? [];
    return {
      name: 'enable-inbox-rules',
      preview: async (ctx) => {
        const { all } = await this.rules(ctx).catch((e) => Promise.reject(toStepError(e, 'rules')));
        const missing = ids(ctx).filter((id) => !all.some((r) => r.rule.id === id));
        if (missing.length) return { wouldChange: `fails: no inbox rule ${missing.join(', ')}`, changes: false };
        const todo = all.filter((r) => ids(ctx).includes(r.rule.id) && r.rule.isEnabled === false);
        return todo.length
          ? { wouldChange: `enable ${todo.map((r) => `"${r.rule.displayName ?? r.rule.id}"`).join(', ')}`, changes: true }
          : { wouldChange: 'nothing: the rules are enabled already', changes: false };
      },
      run: async (ctx) => {
        try {
          const { all, graph } = await this.rules(ctx);
          const missing = ids(ctx).filter((id) => !all.some((r) => r.rule.id === id));
          if (missing.length)
            throw new StepError('target-not-found', `${ctx.target.display} has no inbox rule ${missing.join(', ')} (a deleted rule cannot be re-enabled).`);
          const outcomes: Array<{ id: string; outcome: string }> = [];
          for (const { rule } of all.filter((r) => ids(ctx).includes(r.rule.id))) {
            if (rule.isEnabled !== false) outcomes.push({ id: rule.id, outcome: 'already enabled' });
            else {
              await graph.patch(`${rulesPath(ctx.target.id)}/${encodeURIComponent(rule.id)}`, { isEnabled: true }, { clientRequestId: ctx.clientRequestId });
              outcomes.push({ id: rule.id, outcome: 'enabled' });
            }
          }
          const after = await listRules(graph, ctx.target.id, ctx.clientRequestId);
          const verified = ids(ctx).every((id) => after.find((r) => r.id === id)?.isEnabled === true);
          return {
            status: 'succeeded',
            summary: `enabled ${outcomes.filter((o) => o.outcome === 'enabled').length} inbox rule(s)`,
            verified,
            detail: { rules: outcomes },
          };
        } catch (error) {
          throw toStepError(error, 'rules');
        }
      },
    };
  }

  // ---- consents ----------------------------------------------------------------------------------

  /** The consents to remove: named apps (unknown ones named), all, or (composite) those granted within the lookback window. */
  private async chooseConsents(
    ctx: StepContext,
    graph: TenantGraphClient,
    consents: AppConsent[],
    composite: boolean,
  ): Promise<{ chosen: AppConsent[]; missing: string[]; how: string }> {
    if (!composite) {
      const keys = ctx.params.clientIds as string[] | undefined;
      if (ctx.params.all === true || !keys) return { chosen: consents, missing: [], how: 'all of the user’s consents' };
      return {
        chosen: consents.filter((c) => keys.some((k) => consentMatches(c, k))),
        missing: keys.filter((k) => !consents.some((c) => consentMatches(c, k))),
        how: `the consents to ${keys.join(', ')}`,
      };
    }
    const since = this.since(ctx);
    const recentRoles = consents.filter((c) => c.kind === 'appRole' && c.grantedAt !== null && c.grantedAt >= since);
    const delegated = consents.filter((c) => c.kind === 'delegated');
    const audits = await consentsSince(graph, ctx.target.id, since);
    let recentGrants: AppConsent[];
    let how: string;
    if (audits === undefined) {
      recentGrants = delegated.filter((c) => !c.verifiedPublisher);
      how = `app role assignments made since ${since}, and delegated consents to apps without a verified publisher (the directory audit could not be read to date them)`;
    } else {
      const named = audits.flatMap((a) => a.apps);
      const unnamed = audits.some((a) => a.apps.length === 0);
      recentGrants = delegated.filter(
        (c) => [c.appId, c.servicePrincipalId, c.appDisplayName].some((v) => v && named.includes(v.toLowerCase())) || (unnamed && !c.verifiedPublisher),
      );
      how = `consents given since ${since} (app role assignments by date; delegated consents by the directory audit's "Consent to application"${unnamed ? ', which named no app: those to apps without a verified publisher' : ''})`;
    }
    return { chosen: [...recentGrants, ...recentRoles], missing: [], how };
  }

  private revokeConsentsStep(composite: boolean): StepDefinition {
    const label = (c: AppConsent) => `${c.kind === 'delegated' ? 'consent' : 'app role'} ${c.appDisplayName ?? c.servicePrincipalId} (${c.scopes.join(' ')})`;
    return {
      name: 'revoke-app-consents',
      preview: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.consents, composite);
        if (skipped) return { wouldChange: `skipped: ${skipped.summary}`, changes: false };
        const graph = await this.graph(ctx);
        const consents = await listConsents(graph, ctx.target.id, ctx.clientRequestId).catch((e) => Promise.reject(toStepError(e, 'consents')));
        const { chosen, missing, how } = await this.chooseConsents(ctx, graph, consents, composite);
        if (missing.length) return { wouldChange: `fails: the user has no consent to ${missing.join(', ')}`, changes: false };
        return chosen.length
          ? { wouldChange: `remove ${chosen.map(label).join('; ')} — cannot be undone (${how})`, changes: true }
          : { wouldChange: `nothing: no consent matches (${how})`, changes: false };
      },
      run: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.consents, composite);
        if (skipped) return skipped;
        try {
          const graph = await this.graph(ctx);
          const consents = await listConsents(graph, ctx.target.id, ctx.clientRequestId);
          const { chosen, missing, how } = await this.chooseConsents(ctx, graph, consents, composite);
          if (missing.length && ctx.attempt === 1)
            throw new StepError('target-not-found', `${ctx.target.display} has no consent or app role assignment for ${missing.join(', ')}.`);
          // the removals need a permission that lets an app grant itself more: made as the privileged app when there is one
          const writer = chosen.length ? await this.graphs.privileged(ctx.tenantId) : undefined;
          for (const c of chosen) {
            const path = c.kind === 'delegated' ? `/oauth2PermissionGrants/${c.id}` : `/servicePrincipals/${c.resourceId}/appRoleAssignedTo/${c.id}`;
            await writer!.graph.delete(path, { clientRequestId: ctx.clientRequestId }).catch((error) => {
              if (error instanceof MicrosoftApiError && error.kind === 'not-found') return; // removed already (a re-run)
              if (error instanceof MicrosoftApiError && error.kind === 'forbidden' && c.kind === 'appRole') throw toStepError(error, 'appRoles');
              throw error;
            });
          }
          const after = await listConsents(graph, ctx.target.id, ctx.clientRequestId);
          const verified = chosen.every((c) => !after.some((a) => a.id === c.id));
          return {
            status: 'succeeded',
            summary: chosen.length
              ? `removed ${chosen.length} consent(s) and app role assignment(s): ${chosen.map(label).join('; ')}`
              : `no consent to remove (${how})`,
            verified,
            detail: {
              selection: how,
              removed: chosen.map(({ raw: _raw, ...c }) => c),
              kept: after.map(({ raw: _raw, ...c }) => c),
              evidence: chosen.map((c) => c.raw),
              ...(writer ? { madeAs: writer.app } : {}),
              undo: 'none: the app must be consented to again (new ids)',
            },
            result: { appConsentsRemoved: chosen.length },
          };
        } catch (error) {
          throw toStepError(error, 'consents');
        }
      },
    };
  }

  // ---- sign-in methods ---------------------------------------------------------------------------

  private async chooseMethods(
    ctx: StepContext,
    graph: TenantGraphClient,
    methods: AuthMethod[],
    composite: boolean,
  ): Promise<{ chosen: AuthMethod[]; missing: string[]; how: string; kept: string[] }> {
    const removable = methods.filter((m) => m.removable);
    const ids = composite ? undefined : (ctx.params.methodIds as string[] | undefined);
    if (ids) {
      const missing = ids.filter((id) => !methods.some((m) => m.id === id));
      const fixed = methods.filter((m) => ids.includes(m.id) && !m.removable).map((m) => `${m.type} ${m.id} cannot be removed`);
      return { chosen: removable.filter((m) => ids.includes(m.id)), missing, how: `the methods ${ids.join(', ')}`, kept: fixed };
    }
    if (!composite && ctx.params.allExceptPassword === true) return { chosen: removable, missing: [], how: 'every method but the password', kept: [] };
    const since = composite ? this.since(ctx) : String(ctx.params.addedAfter);
    const dated = removable.filter((m) => m.createdDateTime !== null && m.createdDateTime >= since);
    const undated = removable.filter((m) => m.createdDateTime === null);
    if (undated.length === 0) return { chosen: dated, missing: [], how: `methods added since ${since}`, kept: [] };
    const registered = await lastRegistrationSince(graph, ctx.target.id, since);
    if (registered === undefined) {
      return {
        chosen: dated,
        missing: [],
        how: `methods added since ${since}`,
        kept: undated.map((m) => `${m.type} ${m.id}: Graph gives no date and the directory audit could not be read`),
      };
    }
    if (registered === null)
      return { chosen: dated, missing: [], how: `methods added since ${since} (the directory audit shows no registration since then)`, kept: [] };
    return {
      chosen: [...dated, ...undated],
      missing: [],
      how: `methods added since ${since} (undated ones: the directory audit shows security info registered at ${registered})`,
      kept: [],
    };
  }

  private removeMethodsStep(composite: boolean): StepDefinition {
    const label = (m: AuthMethod) =>
      `${m.type}${m.detail.phoneNumber ? ` ${String(m.detail.phoneNumber)}` : m.detail.displayName ? ` "${String(m.detail.displayName)}"` : ''}`;
    return {
      name: 'remove-auth-methods',
      preview: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.methods, composite);
        if (skipped) return { wouldChange: `skipped: ${skipped.summary}`, changes: false };
        const graph = await this.graph(ctx);
        const methods = await listMethods(graph, ctx.target.id, ctx.clientRequestId).catch((e) => Promise.reject(toStepError(e, 'methods')));
        const { chosen, missing, how } = await this.chooseMethods(ctx, graph, methods, composite);
        if (missing.length) return { wouldChange: `fails: no sign-in method ${missing.join(', ')}`, changes: false };
        return chosen.length
          ? { wouldChange: `remove ${chosen.map(label).join(', ')} — cannot be undone (${how})`, changes: true }
          : { wouldChange: `nothing: no method matches (${how})`, changes: false };
      },
      run: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.methods, composite);
        if (skipped) return skipped;
        try {
          const graph = await this.graph(ctx);
          const methods = await listMethods(graph, ctx.target.id, ctx.clientRequestId);
          const { chosen, missing, how, kept } = await this.chooseMethods(ctx, graph, methods, composite);
          if (missing.length && ctx.attempt === 1)
            throw new StepError('target-not-found', `${ctx.target.display} has no sign-in method ${missing.join(', ')}.`);
          // The alternate mobile phone goes before the mobile one; the default method, which Graph refuses while others remain, last (microsoft-notes M35).
          const queue = [...chosen].sort((a, b) => Number(b.id === ALTERNATE_MOBILE_ID) - Number(a.id === ALTERNATE_MOBILE_ID));
          const deferred = new Set<string>();
          while (queue.length) {
            const m = queue.shift()!;
            try {
              await graph.delete(`/users/${ctx.target.id}/authentication/${m.segment}/${m.id}`, { clientRequestId: ctx.clientRequestId });
            } catch (error) {
              if (error instanceof MicrosoftApiError && error.kind === 'not-found') continue; // gone already (a re-run)
              const isDefault = error instanceof MicrosoftApiError && error.status === 400 && /default method/i.test(error.message);
              if (isDefault && queue.length > 0 && !deferred.has(m.id)) {
                deferred.add(m.id);
                queue.push(m);
                continue;
              }
              throw error;
            }
          }
          const after = await listMethods(graph, ctx.target.id, ctx.clientRequestId);
          const verified = chosen.every((m) => !after.some((a) => a.id === m.id));
          return {
            status: 'succeeded',
            summary: chosen.length ? `removed ${chosen.map(label).join(', ')}` : `no sign-in method to remove (${how})`,
            verified,
            detail: {
              selection: how,
              removed: chosen.map(({ segment: _s, ...m }) => m),
              notRemoved: kept,
              remaining: after.map((m) => ({ id: m.id, type: m.type })),
              evidence: chosen.map(({ segment: _s, ...m }) => m),
              undo: 'none: the user registers the method again',
            },
            result: { authMethodsRemoved: chosen.length },
          };
        } catch (error) {
          throw toStepError(error, 'methods', this.roles(ctx));
        }
      },
    };
  }

  // ---- password ----------------------------------------------------------------------------------

  private resetPasswordStep(composite: boolean): StepDefinition {
    return {
      name: 'reset-password',
      preview: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.password, composite);
        if (skipped) return { wouldChange: `skipped: ${skipped.summary}`, changes: false };
        return {
          wouldChange: `password → ${ctx.params.passwordGiven ? 'the password given' : 'a new random password (never shown)'}, forceChangePasswordNextSignIn true`,
          changes: true,
        };
      },
      run: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.password, composite);
        if (skipped) return skipped;
        const given = ctx.params.passwordGiven === true;
        const password = given ? ctx.secrets?.password : strongPassword();
        if (!password) {
          throw new StepError(
            'password-unavailable',
            'The password given with the request is kept only in the memory of the Cordon instance that took it, and that instance no longer holds it (it restarted, another replica ran the step, or an hour passed). Nothing was changed: request again, or leave out `password` to let Cordon set a random one.',
          );
        }
        try {
          const graph = await this.graph(ctx);
          const requestedAt = Date.now();
          await graph.patch(
            `/users/${ctx.target.id}`,
            { passwordProfile: { password, forceChangePasswordNextSignIn: true } },
            { clientRequestId: ctx.clientRequestId },
          );
          const after = await graph.get<{ lastPasswordChangeDateTime?: string | null }>(`/users/${ctx.target.id}`, {
            query: { $select: 'id,lastPasswordChangeDateTime' },
            clientRequestId: ctx.clientRequestId,
          });
          const changedAt = after.lastPasswordChangeDateTime ?? null;
          const verified = changedAt !== null && Date.parse(changedAt) >= Math.floor(requestedAt / 1000) * 1000 - 1000;
          return {
            status: 'succeeded',
            summary: `password reset (${given ? 'the password given' : 'random'}; must be changed at next sign-in)${verified ? '' : '; lastPasswordChangeDateTime has not moved yet'}`,
            verified,
            detail: { generated: !given, forceChangePasswordNextSignIn: true, lastPasswordChangeDateTime: changedAt },
          };
        } catch (error) {
          if (error instanceof MicrosoftApiError && error.status === 400) {
            throw new StepError('password-rejected', `Microsoft refused the password: ${error.code ?? ''} ${error.message}`.trim(), {
              microsoftCode: error.code,
              microsoftRequestId: error.requestId,
              status: 400,
            });
          }
          throw toStepError(error, 'password', this.roles(ctx));
        }
      },
    };
  }

  // ---- the containment group ---------------------------------------------------------------------

  private async resolveWithGroup(tenantId: string, requested: string): Promise<ActionTarget> {
    const policy = await this.policies.policyOf(tenantId);
    if (!policy.containmentGroupId) {
      throw new Problem(
        409,
        'containment-group-not-set',
        'No containment group',
        'The tenant policy names no containmentGroupId: set it (PUT /v1/tenants/{id}/policy) to the group your Conditional Access block policy targets.',
      );
    }
    return this.users.resolveUser(tenantId, requested);
  }

  private groupStep(add: boolean, composite: boolean): StepDefinition {
    const groupOf = async (ctx: StepContext) => (await this.policies.policyOf(ctx.tenantId)).containmentGroupId;
    const isMember = async (graph: TenantGraphClient, ctx: StepContext, group: string) => {
      const memberOf = await graph.all<{ id: string }>(`/users/${ctx.target.id}/memberOf`, { query: { $select: 'id' }, clientRequestId: ctx.clientRequestId });
      return memberOf.some((o) => o.id.toLowerCase() === group.toLowerCase());
    };
    return {
      name: add ? 'add-to-containment-group' : 'remove-from-containment-group',
      preview: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.group, composite);
        if (skipped) return { wouldChange: `skipped: ${skipped.summary}`, changes: false };
        const group = await groupOf(ctx);
        if (!group) return { wouldChange: 'skipped: the tenant policy names no containmentGroupId', changes: false };
        const member = await isMember(await this.graph(ctx), ctx, group).catch((e) => Promise.reject(toStepError(e, 'group')));
        return member === add
          ? { wouldChange: `nothing: ${add ? 'already a member' : 'not a member'} of ${group}`, changes: false }
          : { wouldChange: `${add ? 'add to' : 'remove from'} the containment group ${group}`, changes: true };
      },
      run: async (ctx) => {
        const skipped = this.skippedFor(ctx, PERSISTENCE_CAPABILITY.group, composite);
        if (skipped) return skipped;
        const group = await groupOf(ctx);
        if (!group) return { status: 'skipped', summary: 'the tenant policy names no containmentGroupId' };
        try {
          const graph = await this.graph(ctx);
          if ((await isMember(graph, ctx, group)) === add) {
            return {
              status: 'succeeded',
              summary: `${add ? 'already a member' : 'not a member'} of the containment group`,
              verified: true,
              detail: { group, changed: false },
            };
          }
          const options = { clientRequestId: ctx.clientRequestId };
          // With /$ref: without it, the DELETE deletes the user (microsoft-notes M24).
          if (add) {
            const ref = `https://${graphHostOf(graph.tenant.cloud)}/v1.0/directoryObjects/${ctx.target.id}`;
            await graph.post(`/groups/${group}/members/$ref`, { '@odata.id': ref }, options);
          } else await graph.delete(`/groups/${group}/members/${ctx.target.id}/$ref`, options);
          const verified = (await isMember(graph, ctx, group)) === add;
          return { status: 'succeeded', summary: `${add ? 'added to' : 'removed from'} the containment group`, verified, detail: { group, changed: true } };
        } catch (error) {
          if (error instanceof MicrosoftApiError && error.kind === 'not-found') {
            throw new StepError('containment-group-not-found', `Microsoft has no group ${group} (the tenant policy's containmentGroupId): ${error.message}`, {
              microsoftCode: error.code,
              status: 404,
            });
          }
          throw toStepError(error, 'group');
        }
      },
    };
  }

  // ---- enterprise apps ---------------------------------------------------------------------------

  /** The drift check of a disabled app: one Graph read of the service principal's accountEnabled (the read the step verifies with). */
  private async appDisabled(tenantId: string, target: ActionTarget): Promise<ContainmentCheck> {
    try {
      const sp = await (
        await this.graph({ tenantId })
      ).get<{ accountEnabled?: boolean }>(`/servicePrincipals/${target.id}`, { query: { $select: 'id,accountEnabled' } });
      return sp.accountEnabled === false
        ? { holds: true, found: 'the app is disabled (accountEnabled false)' }
        : {
            holds: false,
            found: `the app is enabled again (accountEnabled ${String(sp.accountEnabled)})`,
            detail: { accountEnabled: sp.accountEnabled ?? null },
          };
    } catch (error) {
      throw toStepError(error, 'app');
    }
  }

  private async resolveApp(tenantId: string, requested: string): Promise<ActionTarget> {
    const tenant = await this.tenants.findLive(tenantId);
    const graph = await this.graphs.of(tenantId);
    let sp;
    try {
      sp = await servicePrincipalByEitherId(graph, requested);
    } catch (error) {
      if (error instanceof MicrosoftApiError && error.kind === 'not-found') {
        throw new StepError('target-not-found', `Microsoft has no enterprise app (service principal) with object id or appId ${requested}.`, {
          status: 404,
          microsoftCode: error.code,
        });
      }
      throw toStepError(error, 'app');
    }
    const refuse = (why: string) =>
      new Problem(409, 'protected-target', 'Protected target', `${sp.displayName ?? sp.appId} is ${why}; Cordon will not disable it.`, { target: sp.appId });
    if (tenant && sp.appId.toLowerCase() === tenant.clientId.toLowerCase())
      throw refuse("Cordon's own app registration (disabling it would cut Cordon off from this tenant)");
    if (sp.appOwnerOrganizationId && MICROSOFT_TENANTS.includes(sp.appOwnerOrganizationId.toLowerCase())) throw refuse('a Microsoft first-party app');
    return {
      requested,
      id: sp.id,
      display: `${sp.displayName ?? sp.appId} (${sp.appId})`,
      identities: [sp.id.toLowerCase(), sp.appId.toLowerCase()],
      groups: [],
      details: {
        appId: sp.appId,
        displayName: sp.displayName ?? null,
        publisherName: sp.publisherName ?? null,
        verifiedPublisher: Boolean(sp.verifiedPublisher?.verifiedPublisherId),
        appOwnerOrganizationId: sp.appOwnerOrganizationId ?? null,
      },
    };
  }

  private appStep(enabled: boolean): StepDefinition {
    const read = async (ctx: StepContext) =>
      (await this.graph(ctx)).get<{ accountEnabled?: boolean }>(`/servicePrincipals/${ctx.target.id}`, {
        query: { $select: 'id,accountEnabled' },
        clientRequestId: ctx.clientRequestId,
      });
    return {
      name: enabled ? 'enable-app' : 'disable-app',
      preview: async (ctx) => {
        const sp = await read(ctx).catch((e) => Promise.reject(toStepError(e, 'app')));
        return sp.accountEnabled === enabled
          ? { wouldChange: `nothing: the app is already ${enabled ? 'enabled' : 'disabled'}`, changes: false }
          : { wouldChange: `accountEnabled ${String(sp.accountEnabled)} → ${enabled}`, changes: true };
      },
      run: async (ctx) => {
        try {
          const before = await read(ctx);
          if (before.accountEnabled === enabled)
            return { status: 'succeeded', summary: `the app was already ${enabled ? 'enabled' : 'disabled'}`, verified: true, detail: { changed: false } };
          // Application.ReadWrite.All lets an app grant itself more: the privileged app makes the change when there is one
          const writer = await this.graphs.privileged(ctx.tenantId);
          await writer.graph.patch(`/servicePrincipals/${ctx.target.id}`, { accountEnabled: enabled }, { clientRequestId: ctx.clientRequestId });
          const after = await read(ctx);
          const verified = after.accountEnabled === enabled;
          return {
            status: 'succeeded',
            summary: verified
              ? `${enabled ? 'enabled' : 'disabled'} the enterprise app`
              : `Microsoft accepted it but the app still reads accountEnabled=${String(after.accountEnabled)}`,
            verified,
            detail: {
              changed: true,
              accountEnabled: after.accountEnabled ?? null,
              before: { accountEnabled: before.accountEnabled ?? null },
              madeAs: writer.app,
            },
          };
        } catch (error) {
          throw toStepError(error, 'app');
        }
      },
    };
  }
}

/** 24 characters from all four classes Entra's complexity rule counts (microsoft-notes §9.5), from the CSPRNG. */
export function strongPassword(): string {
  const classes = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!@#$%^&*-_=+?'];
  const all = classes.join('');
  const chars = classes.map((c) => c[randomInt(c.length)]);
  while (chars.length < 24) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}
