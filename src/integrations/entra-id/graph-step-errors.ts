import { StepError } from '../../actions/action-handler';
import { classifyMicrosoftFailure } from '../microsoft-step-error';

/** What a user action needs granted, for the error that names it. */
const PERMISSION_FOR: Record<string, string> = {
  disable: 'User.EnableDisableAccount.All (with User.Read.All) or User.ReadWrite.All',
  enable: 'User.EnableDisableAccount.All (with User.Read.All) or User.ReadWrite.All',
  revoke: 'User.RevokeSessions.All or User.ReadWrite.All',
  confirm: 'IdentityRiskyUser.ReadWrite.All',
  read: 'User.Read.All',
  rules: 'MailboxSettings.ReadWrite',
  consents: 'DelegatedPermissionGrant.ReadWrite.All (and AppRoleAssignment.ReadWrite.All for app role assignments)',
  appRoles: 'AppRoleAssignment.ReadWrite.All',
  methods: 'UserAuthenticationMethod.ReadWrite.All',
  password: 'User-PasswordProfile.ReadWrite.All',
  group: 'GroupMember.ReadWrite.All',
  app: 'Application.ReadWrite.All',
};

/** Exchange Online's answers on the mailbox routes (microsoft-notes M37). */
const MAILBOX_MISSING = ['MailboxNotEnabledForRESTAPI', 'MailboxNotHostedInExchangeOnline', 'ErrorMailboxNotFound'];

/**
 * Microsoft's answer, as a precise step error. A 403 Authorization_RequestDenied on a privileged
 * account is Microsoft's way of saying the app's service principal lacks a directory role above the
 * target's (microsoft-notes §4.3, M13), not a missing Graph permission.
 */
export function toStepError(failure: unknown, operation: keyof typeof PERMISSION_FOR, targetRoles: string[] = []): StepError {
  const classified = classifyMicrosoftFailure(failure);
  if (classified instanceof StepError) return classified;
  const { answer: error, extra } = classified;
  switch (error.kind) {
    case 'not-found':
      if (error.code && MAILBOX_MISSING.includes(error.code)) {
        return new StepError('mailbox-unavailable', `The user has no Exchange Online mailbox Graph can reach (${error.code}): ${error.message}`, extra);
      }
      return new StepError('target-not-found', `Microsoft has no such ${operation === 'app' ? 'app' : 'user'} (${error.code ?? error.status}).`, extra);
    case 'forbidden':
      if (targetRoles.length > 0 && (operation === 'disable' || operation === 'enable' || operation === 'password' || operation === 'methods')) {
        return new StepError(
          'privileged-target',
          `The account holds the directory role(s) ${targetRoles.join(', ')}. To change it, Cordon's app (its service principal) must itself hold a directory role with more privilege — for example Privileged Authentication Administrator to disable a Global Administrator. Graph: ${error.code}: ${error.message}`,
          extra,
        );
      }
      return new StepError(
        'permission-missing',
        `Cordon's app lacks the permission for this step: grant ${PERMISSION_FOR[operation]}. Graph: ${error.code ?? error.status}: ${error.message}`,
        extra,
      );
    case 'unlicensed':
      return new StepError('capability-unavailable', `Not licensed for this tenant: ${error.message}`, extra);
    case 'throttled':
      return new StepError('throttled', `Microsoft kept throttling after retries: ${error.message}`, extra);
    default:
      return new StepError(`microsoft-${error.kind}`, error.message, extra);
  }
}
