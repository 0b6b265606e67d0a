import { writeSync } from 'node:fs';

/**
 * Test-only crash points, for the crash suite (test/e2e/crash-points.e2e-spec.ts). With
 * `CORDON_TEST_CRASH_AT=<point>:<n>[:<match>|<match>...]` the process kills itself with SIGKILL the n-th time it
 * reaches `<point>` — counting only passes whose subjects (the Microsoft URL, the audit entries' tenant
 * ids) contain one of the `<match>`es, when given — as a power cut would. Without that variable, in every real
 * deployment, `crashPoint` compares one string and returns. See ARCHITECTURE.md "Crash points (tests only)".
 */
export const CRASH_POINTS = [
  /** Audit entries are written in the caller's transaction, which has not committed. */
  'audit.appended',
  /** An audited change (and its entries) has just committed; nothing after it has run. */
  'audit.committed',
  /** The sealer has chained a batch and moved the head, in a transaction that has not committed. */
  'audit.sealing',
  /** A request to Microsoft is about to be sent. */
  'microsoft.request',
  /** Microsoft has answered (status and headers in); Cordon has not read the answer. */
  'microsoft.response',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const armed = /^([a-z.]+):(\d+)(?::(.+))?$/.exec(process.env.CORDON_TEST_CRASH_AT ?? '');
const target = armed?.[1];
const nth = Number(armed?.[2] ?? 0);
const matches = armed?.[3]?.split('|');
let reached = 0;

export function crashPoint(point: CrashPoint, subjects: ReadonlyArray<string | null | undefined> = []): void {
  if (point !== target) return;
  if (matches && !subjects.some((s) => matches.some((m) => s?.includes(m)))) return;
  if (++reached < nth) return;
  writeSync(2, `crash point ${point}:${reached} reached: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
