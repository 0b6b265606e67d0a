import { StepError } from '../actions/action-handler';
import { MicrosoftApiError, MicrosoftAuthError } from '../microsoft';

/** What every integration's step errors carry from Microsoft's answer. */
export interface MicrosoftErrorExtra {
  microsoftCode?: string;
  microsoftRequestId?: string;
  status: number;
  retryable: boolean;
}

/**
 * The part of turning a failure into a step error that is the same for every Microsoft API: a step
 * error passes through, a credential failure is `credential-error`, anything that is not Microsoft's
 * answer is `step-failed`. Microsoft's answers come back with their extras, for the integration's words.
 */
export function classifyMicrosoftFailure(error: unknown): StepError | { answer: MicrosoftApiError; extra: MicrosoftErrorExtra } {
  if (error instanceof StepError) return error;
  if (error instanceof MicrosoftAuthError) return new StepError('credential-error', error.message, { retryable: error.transient });
  if (!(error instanceof MicrosoftApiError)) return new StepError('step-failed', error instanceof Error ? error.message : String(error));
  return { answer: error, extra: { microsoftCode: error.code, microsoftRequestId: error.requestId, status: error.status, retryable: error.transient } };
}
