import { StepError } from '../../actions/action-handler';
import { classifyMicrosoftFailure } from '../microsoft-step-error';

export type XdrKind = 'alert' | 'incident';

/** What writing to an alert or an incident needs granted (microsoft-notes M42). */
export const WRITE_PERMISSION: Record<XdrKind, string> = {
  alert: 'SecurityAlert.ReadWrite.All',
  incident: 'SecurityIncident.ReadWrite.All',
};

/** Microsoft's answer to a Defender XDR alert or incident call, as a precise step error. */
export function toXdrStepError(failure: unknown, kind: XdrKind, id: string): StepError {
  const classified = classifyMicrosoftFailure(failure);
  if (classified instanceof StepError) return classified;
  const { answer: error, extra } = classified;
  switch (error.kind) {
    case 'not-found':
      return new StepError('target-not-found', `Microsoft has no ${kind} ${id} (${error.code ?? error.status}).`, extra);
    case 'forbidden':
      return new StepError(
        'permission-missing',
        `Cordon's app lacks the permission for this step: grant ${WRITE_PERMISSION[kind]} (the tenant also needs Microsoft Defender XDR). Graph: ${error.code ?? error.status}: ${error.message}`,
        extra,
      );
    case 'unlicensed':
      return new StepError('capability-unavailable', `Not licensed for this tenant: ${error.message}`, extra);
    case 'throttled':
      return new StepError('throttled', `Microsoft kept throttling after retries: ${error.message}`, extra);
    case 'bad-request':
      return new StepError('microsoft-refused', `Microsoft refused the ${kind} change: ${error.message}`, extra);
    default:
      return new StepError(`microsoft-${error.kind}`, error.message, extra);
  }
}
