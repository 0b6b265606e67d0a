import { Injectable } from '@nestjs/common';

/** How long a secret given with a request is kept for its action (long enough for an approval on this instance). */
const KEEP_MS = 60 * 60_000;

/**
 * Secrets a request gives for its action's steps (a password to set): kept only in this process's
 * memory, never in the action's parameters, the audit log, a log line or a response
 * (microsoft-notes M38). A step that needs one and finds none (the process restarted, another replica runs the step, or
 * more than an hour passed) fails and says so; a retry of the request with the same Idempotency-Key
 * gives the secret again.
 */
@Injectable()
export class ActionSecrets {
  private readonly secrets = new Map<string, { values: Record<string, string>; until: number }>();

  put(actionId: string, values: Record<string, string>): void {
    if (Object.keys(values).length === 0) return;
    this.sweep();
    this.secrets.set(actionId, { values, until: Date.now() + KEEP_MS });
  }

  get(actionId: string): Record<string, string> | undefined {
    const kept = this.secrets.get(actionId);
    return kept && kept.until > Date.now() ? kept.values : undefined;
  }

  /** Forgets an action's secrets once it has finished. */
  forget(actionId: string): void {
    this.secrets.delete(actionId);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, kept] of this.secrets) if (kept.until <= now) this.secrets.delete(id);
  }
}
