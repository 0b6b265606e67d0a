import type { Capability, CapabilityCheck, CapabilityResult } from '../../tenants/capability';

/** Route A: Defender for Office 365's remediation (microsoft-notes M53). */
export const EMAIL_REMEDIATION: Capability = {
  name: 'email-remediation',
  permissions: ['SecurityAnalyzedMessage.ReadWrite.All'],
  licence: 'Microsoft Defender for Office 365, Global cloud only (microsoft-notes M53)',
};
/** Route B: the recipients' mailboxes, message by message (microsoft-notes M55). */
export const MAILBOX_MESSAGES: Capability = { name: 'mailbox-messages', permissions: ['Mail.ReadWrite'], licence: 'an Exchange Online mailbox per user' };

/**
 * Reading one analyzed email proves Defender for Office 365 answers us in this tenant; remediating cannot be
 * probed without acting, so the roles of Cordon's Graph token decide it. The analyzedEmails API is served on the
 * Global cloud only: elsewhere nothing is asked.
 */
const EMAIL_REMEDIATION_CHECK: CapabilityCheck = {
  capabilities: [EMAIL_REMEDIATION],
  async probe({ tenant, graph, roles }) {
    const capability = EMAIL_REMEDIATION.name;
    if (tenant.cloud !== 'global') {
      return [
        {
          capability,
          status: 'unlicensed',
          detail: `analyzedEmails remediation is offered in the Global cloud only, not in ${tenant.cloud} (microsoft-notes M53)`,
        },
      ];
    }
    const now = Date.now();
    await graph.get('/security/collaboration/analyzedEmails', {
      query: { startTime: new Date(now - 86_400_000).toISOString(), endTime: new Date(now).toISOString(), $top: '1' },
    });
    const granted = await roles('graph');
    if (granted.includes('SecurityAnalyzedMessage.ReadWrite.All')) return [{ capability, status: 'available', detail: null }];
    return [{ capability, status: 'forbidden', detail: 'needs SecurityAnalyzedMessage.ReadWrite.All' }];
  },
};

/** No mailbox can be read without naming one: the roles of Cordon's Graph token decide (microsoft-notes M55). */
const MAILBOX_MESSAGES_CHECK: CapabilityCheck = {
  capabilities: [MAILBOX_MESSAGES],
  async probe({ roles }): Promise<CapabilityResult[]> {
    const granted = await roles('graph');
    if (granted.includes('Mail.ReadWrite')) return [{ capability: MAILBOX_MESSAGES.name, status: 'available', detail: null }];
    return [{ capability: MAILBOX_MESSAGES.name, status: 'forbidden', detail: 'needs Mail.ReadWrite' }];
  },
};

/** Email remediation (microsoft-notes §15): Defender for Office 365 where it answers, the mailboxes otherwise. */
export const EMAIL_REMEDIATION_CAPABILITIES: CapabilityCheck[] = [EMAIL_REMEDIATION_CHECK, MAILBOX_MESSAGES_CHECK];
