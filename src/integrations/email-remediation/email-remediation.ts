import { Injectable, OnModuleInit } from '@nestjs/common';
import { ActionTarget, StepContext, StepDefinition, StepError, StepInProgress, StepOutcome, StepPreview } from '../../actions/action-handler';
import { ActionCatalogue } from '../../actions/action-catalogue';
import { Problem } from '../../common/problem';
import { MicrosoftApiError, MicrosoftHttp, type TenantGraphClient } from '../../microsoft';
import { TenantCapabilitiesService } from '../../tenants/tenant-capabilities.service';
import { classifyMicrosoftFailure } from '../microsoft-step-error';
import { TenantGraphs } from '../tenant-graphs';
import type { EmailAction } from './dto/email-remediation.dto';
import { EMAIL_REMEDIATION, MAILBOX_MESSAGES } from './email-remediation.capabilities';

type Raw = Record<string, unknown>;
export type EmailRoute = 'defender-for-office' | 'mailbox';

export interface EmailCopy {
  networkMessageId: string;
  recipient: string;
  internetMessageId?: string;
}

/** Where each action leaves a copy: `latestDelivery.location` values (microsoft-notes M54) and the mailbox folder (microsoft-notes M55). */
const EXPECTED: Record<EmailAction, { locations: string[]; folder: string | null; words: string }> = {
  softDelete: { locations: ['deletedFolder', 'dropped'], folder: 'recoverableitemsdeletions', words: 'soft-deleted (Recoverable Items)' },
  hardDelete: { locations: ['deletedFolder', 'dropped'], folder: null, words: 'purged' },
  moveToDeletedItems: { locations: ['deletedFolder'], folder: 'deleteditems', words: 'moved to Deleted Items' },
  moveToJunk: { locations: ['junkFolder'], folder: 'junkemail', words: 'moved to Junk Email' },
  moveToInbox: { locations: ['inbox_folder'], folder: 'inbox', words: 'moved to the Inbox' },
};

/** Immutable ids on every mailbox call: a move does not change them (microsoft-notes M55). */
export const IMMUTABLE_IDS = { Prefer: 'IdType="ImmutableId"' };
/** Outlook's concurrent requests per app and mailbox (microsoft-notes M56). */
export const MAILBOX_CONCURRENCY = 4;
/** How long the verification re-reads latestDelivery before it reports the copies unverified. */
export const VERIFY_FOR_MS = 15 * 60_000;
const POLL_FIRST_MS = 2000;
const POLL_MAX_MS = 60_000;
const SEARCH_DAYS = 30;

const HARD_DELETE_WARNING = 'hardDelete cannot be undone: the copies are purged and moveToInbox cannot bring them back';

export const ROUTE_NOTES: Record<EmailRoute, string> = {
  'defender-for-office':
    "Defender for Office 365 remediation: one call for the batch, one entry in the Defender portal's Action center (the actionCenter link); the sender's copy is not touched",
  mailbox:
    "per-mailbox (Mail.ReadWrite): each copy was found by its internetMessageId in the recipient's mailbox and acted on there; the sender's copy is not touched; no Action center entry",
};

const key = (networkMessageId: string, recipient: string) => `${networkMessageId.toLowerCase()}|${recipient.toLowerCase()}`;
const odata = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The copies of the action's parameters. */
function copiesOf(params: Record<string, unknown>): EmailCopy[] {
  return (params.messages as EmailCopy[]).map((m) => ({
    networkMessageId: m.networkMessageId,
    recipient: m.recipient,
    ...(m.internetMessageId ? { internetMessageId: m.internetMessageId } : {}),
  }));
}

/** What the caller names as the action's target: the distinct networkMessageIds (the first five, then a count). */
export function requestedOf(messages: EmailCopy[]): string {
  const ids = [...new Set(messages.map((m) => m.networkMessageId.toLowerCase()))];
  return ids.length <= 5 ? ids.join(',') : `${ids.slice(0, 5).join(',')},+${ids.length - 5} more`;
}

/** Runs `work` on every item, at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Per mailbox at most MAILBOX_CONCURRENCY calls at a time (microsoft-notes M56), mailboxes side by side. */
async function perMailbox<R>(copies: EmailCopy[], work: (copy: EmailCopy) => Promise<R>): Promise<R[]> {
  const groups = new Map<string, number[]>();
  copies.forEach((c, i) => groups.set(c.recipient.toLowerCase(), [...(groups.get(c.recipient.toLowerCase()) ?? []), i]));
  const results: R[] = new Array(copies.length);
  await Promise.all(
    [...groups.values()].map((indexes) =>
      pool(indexes, MAILBOX_CONCURRENCY, async (i) => {
        results[i] = await work(copies[i]);
      }),
    ),
  );
  return results;
}

/** Microsoft's answer to an email call, as a precise step error naming what is missing. */
export function toEmailStepError(failure: unknown, route: EmailRoute): StepError {
  const classified = classifyMicrosoftFailure(failure);
  if (classified instanceof StepError) return classified;
  const { answer: error, extra } = classified;
  const permission = route === 'defender-for-office' ? 'SecurityAnalyzedMessage.ReadWrite.All' : 'Mail.ReadWrite';
  switch (error.kind) {
    case 'forbidden':
      return new StepError(
        'permission-missing',
        `Cordon's app lacks the permission for this step: grant ${permission}${route === 'defender-for-office' ? ' (the tenant also needs Microsoft Defender for Office 365)' : ''}. Graph: ${error.code ?? error.status}: ${error.message}`,
        extra,
      );
    case 'unlicensed':
      return new StepError('capability-unavailable', `Not licensed for this tenant: ${error.message}`, extra);
    case 'throttled':
      return new StepError('throttled', `Microsoft kept throttling after retries: ${error.message}`, extra);
    case 'bad-request':
      return new StepError('microsoft-refused', `Microsoft refused the remediation: ${error.message}`, extra);
    case 'not-found':
      return new StepError('target-not-found', `Microsoft answered not found: ${error.message}`, extra);
    default:
      return new StepError(`microsoft-${error.kind}`, error.message, extra);
  }
}

interface Delivery {
  location: string | null;
  internetMessageId: string | null;
}

interface CopyResult extends EmailCopy {
  outcome: string;
  [detail: string]: unknown;
}

/**
 * `email.remediate`: pulls delivered copies out of mailboxes (microsoft-notes §15). Route A, Defender for Office
 * 365 (`analyzedEmails/remediate`, Global cloud): one call, never sent twice for one action, verified by
 * re-reading `latestDelivery` (microsoft-notes M53, M54). Route B, per mailbox (`Mail.ReadWrite`): each copy is
 * found by its internetMessageId and deleted or moved with immutable ids, four calls at a time per mailbox,
 * verified by finding it again (microsoft-notes M55, M56). The route is chosen when the target is resolved and
 * recorded with it; the result says which one ran and what it does not do.
 */
@Injectable()
export class EmailRemediation implements OnModuleInit {
  constructor(
    private readonly catalogue: ActionCatalogue,
    private readonly graphs: TenantGraphs,
    private readonly http: MicrosoftHttp,
    private readonly capabilities: TenantCapabilitiesService,
  ) {}

  onModuleInit(): void {
    this.catalogue.register({
      type: 'email.remediate',
      targetKind: 'email',
      // Either route will do: the choice (or the 409 naming both) is made when the target is resolved.
      requiredCapabilities: [],
      resolve: (tenantId, requested) => this.resolve(tenantId, requested),
      steps: () => [this.remediateStep(), this.verifyStep()],
      notes: ['moveToInbox undoes every action but hardDelete, which cannot be undone'],
    });
  }

  /** Chooses the route: Defender for Office 365 where the tenant's cloud and capabilities allow, else per mailbox, else 409. */
  private async resolve(tenantId: string, requested: string): Promise<ActionTarget> {
    const [statuses, graph] = await Promise.all([this.capabilities.statusesOf(tenantId), this.graphs.of(tenantId)]);
    const cloud = graph.tenant.cloud;
    const a = statuses[EMAIL_REMEDIATION.name];
    const b = statuses[MAILBOX_MESSAGES.name];
    const said = (s: { status: string; detail: string | null } | undefined) => (s ? `${s.status}${s.detail ? ` (${s.detail})` : ''}` : 'not probed yet');
    let route: EmailRoute;
    let why: string;
    if (cloud === 'global' && a?.status === 'available') {
      route = 'defender-for-office';
      why = 'email-remediation is available';
    } else if (b?.status === 'available') {
      route = 'mailbox';
      why = cloud !== 'global' ? `the ${cloud} cloud has no analyzedEmails remediation (microsoft-notes M53)` : `email-remediation is ${said(a)}`;
    } else {
      throw new Problem(
        409,
        'capability-unavailable',
        'Capability unavailable',
        `email.remediate needs email-remediation (SecurityAnalyzedMessage.ReadWrite.All, Microsoft Defender for Office 365, Global cloud) or mailbox-messages (Mail.ReadWrite): email-remediation is ${cloud === 'global' ? said(a) : `not offered in the ${cloud} cloud`}, mailbox-messages is ${said(b)}.`,
        {
          capability: EMAIL_REMEDIATION.name,
          alternatives: [EMAIL_REMEDIATION.name, MAILBOX_MESSAGES.name],
          permissions: ['SecurityAnalyzedMessage.ReadWrite.All', 'Mail.ReadWrite'],
        },
      );
    }
    return {
      requested,
      id: requested,
      display: `email ${requested}`,
      identities: requested.split(','),
      groups: [],
      details: { route, why, cloud },
    };
  }

  private routeOf(ctx: StepContext): EmailRoute {
    return (ctx.target.details?.route as EmailRoute | undefined) ?? 'mailbox';
  }

  // --- Defender for Office 365 ------------------------------------------------------------------

  /** latestDelivery per copy, read per networkMessageId over the last SEARCH_DAYS days (microsoft-notes M54). */
  private async deliveries(graph: TenantGraphClient, copies: EmailCopy[], clientRequestId?: string): Promise<Map<string, Delivery>> {
    const now = Date.now();
    const found = new Map<string, Delivery>();
    for (const id of new Set(copies.map((c) => c.networkMessageId.toLowerCase()))) {
      const items = await graph.all<Raw>('/security/collaboration/analyzedEmails', {
        query: {
          startTime: new Date(now - SEARCH_DAYS * 86_400_000).toISOString(),
          endTime: new Date(now + 3_600_000).toISOString(),
          $filter: `networkMessageId eq ${odata(id)}`,
        },
        ...(clientRequestId ? { clientRequestId } : {}),
      });
      for (const item of items) {
        const latest = (item.latestDelivery ?? {}) as Raw;
        found.set(key(String(item.networkMessageId ?? id), String(item.recipientEmailAddress ?? '')), {
          location: typeof latest.location === 'string' ? latest.location : null,
          internetMessageId: typeof item.internetMessageId === 'string' ? item.internetMessageId : null,
        });
      }
    }
    return found;
  }

  private reflects(action: EmailAction, delivery: Delivery | undefined): boolean {
    return delivery?.location !== undefined && delivery.location !== null && EXPECTED[action].locations.includes(delivery.location);
  }

  private async submit(ctx: StepContext, graph: TenantGraphClient, copies: EmailCopy[], action: EmailAction) {
    const displayName = `Cordon ${ctx.actionId}`;
    const response = await this.http.request({
      tenant: graph.tenant,
      resource: 'graph',
      method: 'POST',
      url: '/v1.0/security/collaboration/analyzedEmails/remediate',
      clientRequestId: ctx.clientRequestId,
      body: {
        displayName,
        description: ctx.reason.slice(0, 1000),
        severity: 'medium',
        action,
        remediateSendersCopy: false,
        analyzedEmails: copies.map((c) => ({ networkMessageId: c.networkMessageId, recipientEmailAddress: c.recipient })),
      },
    });
    return { displayName, actionCenter: response.headers.location ?? null, requestId: response.requestId };
  }

  /**
   * One remediate call for the batch. Microsoft does not deduplicate (microsoft-notes M53): a step started again
   * after a crash (attempt > 1) may follow a call that went through, so it re-reads latestDelivery first and
   * submits only the copies that do not show the action yet, saying so.
   */
  private async remediateDefender(ctx: StepContext): Promise<StepOutcome> {
    const action = ctx.params.action as EmailAction;
    const copies = copiesOf(ctx.params);
    const graph = await this.graphs.of(ctx.tenantId);
    let toSend = copies;
    let earlier: string | undefined;
    if (ctx.attempt > 1) {
      const now = await this.deliveries(graph, copies, ctx.clientRequestId);
      toSend = copies.filter((c) => !this.reflects(action, now.get(key(c.networkMessageId, c.recipient))));
      if (toSend.length === 0) {
        return {
          status: 'succeeded',
          summary: `an earlier attempt's remediation already shows in latestDelivery for all ${copies.length} copies; not sent again`,
          detail: { route: 'defender-for-office', sent: false, adopted: true, copies: copies.length },
          result: { route: 'defender-for-office', routeNote: ROUTE_NOTES['defender-for-office'] },
        };
      }
      earlier = `an earlier attempt may have submitted this batch: ${copies.length - toSend.length} of ${copies.length} copies already showed it, the other ${toSend.length} were submitted`;
    }
    const sent = await this.submit(ctx, graph, toSend, action);
    return {
      status: 'succeeded',
      summary: `${earlier ? `${earlier}; ` : ''}Defender for Office 365 accepted ${action} of ${toSend.length} cop${toSend.length === 1 ? 'y' : 'ies'} (202)`,
      ...(sent.requestId ? { microsoftRequestId: sent.requestId } : {}),
      detail: { route: 'defender-for-office', sent: true, submitted: toSend.length, displayName: sent.displayName, actionCenter: sent.actionCenter },
      result: {
        route: 'defender-for-office',
        routeNote: ROUTE_NOTES['defender-for-office'],
        actionCenter: sent.actionCenter,
        ...(action === 'hardDelete' ? { warning: HARD_DELETE_WARNING } : {}),
      },
    };
  }

  /** Re-reads latestDelivery until every copy shows the action, for at most VERIFY_FOR_MS (microsoft-notes M54). */
  private async verifyDefender(ctx: StepContext): Promise<StepOutcome | StepInProgress> {
    const action = ctx.params.action as EmailAction;
    const copies = copiesOf(ctx.params);
    const state = (ctx.state ?? {}) as { since?: string; polls?: number };
    const since = state.since ?? new Date().toISOString();
    const polls = state.polls ?? 0;
    const now = await this.deliveries(await this.graphs.of(ctx.tenantId), copies, ctx.clientRequestId);
    const messages = copies.map((c) => {
      const d = now.get(key(c.networkMessageId, c.recipient));
      return { ...c, latestDelivery: d?.location ?? null, verified: this.reflects(action, d) };
    });
    const pending = messages.filter((m) => !m.verified);
    const expected = EXPECTED[action].locations.join(' or ');
    if (pending.length === 0) {
      return {
        status: 'succeeded',
        summary: `latestDelivery shows ${expected} for all ${copies.length} copies`,
        verified: true,
        detail: { polls, messages },
        result: { messages },
      };
    }
    if (Date.now() - Date.parse(since) >= VERIFY_FOR_MS) {
      const reads = pending.map((m) => `${m.recipient}: ${m.latestDelivery ?? 'not listed by analyzedEmails'}`).join('; ');
      return {
        status: 'succeeded',
        summary: `unverified: after ${Math.round(VERIFY_FOR_MS / 60_000)} minutes ${pending.length} of ${copies.length} copies do not show ${expected} yet (${reads}); see the Action center`,
        verified: false,
        detail: { polls, messages },
        result: { messages, unverifiedReason: `latestDelivery did not show ${expected} within ${Math.round(VERIFY_FOR_MS / 60_000)} minutes` },
      };
    }
    return {
      status: 'running',
      summary: `waiting for latestDelivery to show ${expected}: ${pending.length} of ${copies.length} copies pending`,
      pollAfterMs: Math.min(POLL_MAX_MS, POLL_FIRST_MS * 2 ** Math.min(polls, 10)),
      state: { since, polls: polls + 1 },
      detail: { messages },
    };
  }

  // --- per mailbox ------------------------------------------------------------------------------

  /** The copy's internetMessageId: given, or looked up in analyzedEmails where that answers (Global cloud). */
  private async internetMessageIdOf(graph: TenantGraphClient, copy: EmailCopy, lookups: Map<string, Delivery> | null): Promise<string | undefined> {
    if (copy.internetMessageId) return copy.internetMessageId;
    return lookups?.get(key(copy.networkMessageId, copy.recipient))?.internetMessageId ?? undefined;
  }

  /** analyzedEmails for the copies without an internetMessageId, when the tenant's Graph answers it; null when it does not. */
  private async lookups(graph: TenantGraphClient, copies: EmailCopy[]): Promise<Map<string, Delivery> | null> {
    const missing = copies.filter((c) => !c.internetMessageId);
    if (missing.length === 0 || graph.tenant.cloud !== 'global') return null;
    try {
      return await this.deliveries(graph, missing);
    } catch (error) {
      if (error instanceof MicrosoftApiError && ['forbidden', 'unlicensed', 'not-found', 'bad-request'].includes(error.kind)) return null;
      throw error;
    }
  }

  private mailbox(recipient: string): string {
    return `/users/${encodeURIComponent(recipient)}`;
  }

  /** The copy in the visible mailbox or in Recoverable Items\Deletions, by internetMessageId (microsoft-notes M55). */
  private async locate(graph: TenantGraphClient, copy: EmailCopy, internetMessageId: string): Promise<{ id: string; parentFolderId: string } | undefined> {
    const query = { $filter: `internetMessageId eq ${odata(internetMessageId)}`, $select: 'id,parentFolderId,internetMessageId' };
    for (const path of ['/messages', '/mailFolders/recoverableitemsdeletions/messages']) {
      const page = await graph.get<{ value?: Raw[] }>(`${this.mailbox(copy.recipient)}${path}`, { query, headers: IMMUTABLE_IDS });
      const hit = page.value?.[0];
      if (hit) return { id: String(hit.id), parentFolderId: String(hit.parentFolderId) };
    }
    return undefined;
  }

  private async folderId(graph: TenantGraphClient, recipient: string, folder: string): Promise<string> {
    const read = await graph.get<Raw>(`${this.mailbox(recipient)}/mailFolders/${folder}`, { query: { $select: 'id' }, headers: IMMUTABLE_IDS });
    return String(read.id);
  }

  private async act(graph: TenantGraphClient, copy: EmailCopy, messageId: string, action: EmailAction, clientRequestId: string): Promise<void> {
    const path = `${this.mailbox(copy.recipient)}/messages/${encodeURIComponent(messageId)}`;
    const options = { headers: IMMUTABLE_IDS, clientRequestId };
    if (action === 'softDelete') return graph.delete(path, options);
    if (action === 'hardDelete') {
      await graph.post(`${path}/permanentDelete`, undefined, options);
      return;
    }
    await graph.post(`${path}/move`, { destinationId: EXPECTED[action].folder }, options);
  }

  private async remediateMailboxes(ctx: StepContext): Promise<StepOutcome> {
    const action = ctx.params.action as EmailAction;
    const copies = copiesOf(ctx.params);
    const graph = await this.graphs.of(ctx.tenantId);
    const lookups = await this.lookups(graph, copies);
    const failures: unknown[] = [];
    const results = await perMailbox(copies, async (copy): Promise<CopyResult> => {
      const internetMessageId = await this.internetMessageIdOf(graph, copy, lookups);
      if (!internetMessageId) return { ...copy, outcome: 'needs-internet-message-id' };
      try {
        const found = await this.locate(graph, copy, internetMessageId);
        if (!found) return { ...copy, internetMessageId, outcome: 'not-found' };
        const folder = EXPECTED[action].folder;
        if (folder && found.parentFolderId === (await this.folderId(graph, copy.recipient, folder))) {
          return { ...copy, internetMessageId, outcome: 'already', messageId: found.id };
        }
        await this.act(graph, copy, found.id, action, ctx.clientRequestId);
        return { ...copy, internetMessageId, outcome: 'remediated', messageId: found.id };
      } catch (error) {
        failures.push(error);
        return { ...copy, internetMessageId, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
      }
    });
    const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
    if (failures.length > 0 && count('remediated') + count('already') === 0) throw toEmailStepError(failures[0], 'mailbox');
    const parts = ['remediated', 'already', 'not-found', 'needs-internet-message-id', 'failed'].filter((o) => count(o) > 0).map((o) => `${count(o)} ${o}`);
    return {
      status: 'succeeded',
      summary: `per mailbox, ${action}: ${parts.join(', ')}`,
      detail: { route: 'mailbox', messages: results },
      result: {
        route: 'mailbox',
        routeNote: ROUTE_NOTES.mailbox,
        mailbox: results,
        ...(count('needs-internet-message-id') > 0
          ? { needsInternetMessageId: 'give internetMessageId for these copies: without Defender for Office 365 Cordon cannot look it up' }
          : {}),
        ...(action === 'hardDelete' ? { warning: HARD_DELETE_WARNING } : {}),
      },
    };
  }

  /** Finds every copy again: it is in the action's folder (by parentFolderId), or gone for hardDelete. */
  private async verifyMailboxes(ctx: StepContext): Promise<StepOutcome> {
    const action = ctx.params.action as EmailAction;
    const copies = copiesOf(ctx.params);
    const graph = await this.graphs.of(ctx.tenantId);
    const lookups = await this.lookups(graph, copies);
    const folder = EXPECTED[action].folder;
    try {
      const messages = await perMailbox(copies, async (copy) => {
        const internetMessageId = await this.internetMessageIdOf(graph, copy, lookups);
        if (!internetMessageId) return { ...copy, verified: false, readBack: 'no internetMessageId to look for' };
        const found = await this.locate(graph, copy, internetMessageId);
        if (!folder) return { ...copy, internetMessageId, verified: !found, readBack: found ? 'still in the mailbox' : 'gone' };
        if (!found) return { ...copy, internetMessageId, verified: false, readBack: 'not found in the mailbox' };
        const inPlace = found.parentFolderId === (await this.folderId(graph, copy.recipient, folder));
        return { ...copy, internetMessageId, verified: inPlace, readBack: inPlace ? `in ${folder}` : 'in another folder' };
      });
      const ok = messages.filter((m) => m.verified).length;
      return {
        status: 'succeeded',
        summary:
          ok === copies.length
            ? `read back: all ${copies.length} copies ${EXPECTED[action].words}`
            : `read back: ${ok} of ${copies.length} copies ${EXPECTED[action].words}`,
        verified: ok === copies.length,
        detail: { messages },
        result: { messages },
      };
    } catch (error) {
      throw toEmailStepError(error, 'mailbox');
    }
  }

  // --- steps ------------------------------------------------------------------------------------

  private async previewRemediate(ctx: StepContext): Promise<StepPreview> {
    const action = ctx.params.action as EmailAction;
    const copies = copiesOf(ctx.params);
    const graph = await this.graphs.of(ctx.tenantId);
    const warning = action === 'hardDelete' ? ` — ${HARD_DELETE_WARNING}` : '';
    if (this.routeOf(ctx) === 'defender-for-office') {
      const now = await this.deliveries(graph, copies);
      const todo = copies.filter((c) => !this.reflects(action, now.get(key(c.networkMessageId, c.recipient))));
      const where = copies.map((c) => `${c.recipient}: ${now.get(key(c.networkMessageId, c.recipient))?.location ?? 'not listed'}`).join('; ');
      return {
        wouldChange: `Defender for Office 365 ${action} of ${copies.length} copies in one call (one Action center entry; now ${where})${warning}`,
        changes: todo.length > 0,
      };
    }
    const lookups = await this.lookups(graph, copies);
    const seen = await perMailbox(copies, async (copy) => {
      const internetMessageId = await this.internetMessageIdOf(graph, copy, lookups);
      if (!internetMessageId) return `${copy.recipient}: needs internetMessageId`;
      return `${copy.recipient}: ${(await this.locate(graph, copy, internetMessageId)) ? 'found' : 'not found'}`;
    });
    return {
      wouldChange: `per mailbox, ${action} of each copy found by internetMessageId (${seen.join('; ')}); the sender's copy is not touched, no Action center entry${warning}`,
      changes: seen.some((s) => s.endsWith(': found')),
    };
  }

  private remediateStep(): StepDefinition {
    return {
      name: 'remediate',
      preview: async (ctx) => {
        try {
          return await this.previewRemediate(ctx);
        } catch (error) {
          throw toEmailStepError(error, this.routeOf(ctx));
        }
      },
      run: async (ctx) => {
        const route = this.routeOf(ctx);
        try {
          return route === 'defender-for-office' ? await this.remediateDefender(ctx) : await this.remediateMailboxes(ctx);
        } catch (error) {
          throw toEmailStepError(error, route);
        }
      },
    };
  }

  private verifyStep(): StepDefinition {
    return {
      name: 'verify',
      preview: async (ctx) => ({
        wouldChange:
          this.routeOf(ctx) === 'defender-for-office'
            ? `nothing: re-reads latestDelivery until every copy shows ${EXPECTED[ctx.params.action as EmailAction].locations.join(' or ')} (at most ${VERIFY_FOR_MS / 60_000} minutes)`
            : 'nothing: finds every copy again in its mailbox',
        changes: false,
      }),
      run: async (ctx) => {
        const route = this.routeOf(ctx);
        try {
          return route === 'defender-for-office' ? await this.verifyDefender(ctx) : await this.verifyMailboxes(ctx);
        } catch (error) {
          throw toEmailStepError(error, route);
        }
      },
    };
  }
}
