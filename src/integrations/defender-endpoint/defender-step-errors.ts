import { StepError } from '../../actions/action-handler';
import { classifyMicrosoftFailure } from '../microsoft-step-error';

/** Defender's answer as a precise step error (microsoft-notes §5.5); `permission` names what the step needs granted. */
export function toDefenderStepError(failure: unknown, permission: string): StepError {
  const classified = classifyMicrosoftFailure(failure);
  if (classified instanceof StepError) return classified;
  const { answer: error, extra } = classified;
  switch (error.kind) {
    case 'not-found':
      return new StepError('target-not-found', `Defender for Endpoint has no such device or machine action (${error.code ?? error.status}).`, extra);
    case 'forbidden':
    case 'unauthorized':
      return new StepError(
        'permission-missing',
        `Cordon's app lacks the permission for this step: grant ${permission} (WindowsDefenderATP, application). Defender: ${error.code ?? error.status}: ${error.message}`,
        extra,
      );
    case 'unlicensed':
      return new StepError('capability-unavailable', `Defender for Endpoint is not enabled for this tenant: ${error.message}`, extra);
    case 'throttled':
      return new StepError('throttled', `Defender kept throttling after retries: ${error.message}`, extra);
    default:
      if (error.code === 'OsPlatformNotSupported')
        return new StepError('unsupported-platform', `Defender cannot do this on the device's OS: ${error.message}`, extra);
      return new StepError(`microsoft-${error.kind}`, error.message, extra);
  }
}
