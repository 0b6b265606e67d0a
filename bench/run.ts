/**
 * `npm run bench [-- <name>]`: runs the benchmarks and prints their results as JSON lines.
 * Each benchmark measures against a baseline in the same run (in its process, or in processes it
 * starts), so results are ratios that hold across machines. Record notable results in
 * bench/RESULTS.md with the command that produced them.
 */
import { actionsBench } from './actions.bench';
import { auditLogBench } from './audit-log.bench';
import { authOverhead } from './auth-overhead.bench';
import { ingestHuntingBench } from './ingest-hunting.bench';
import { ingestBacklogBench, ingestBench } from './ingest.bench';
import { massIsolationBench } from './mass-isolation.bench';

const BENCHMARKS: Record<string, () => Promise<Record<string, unknown>>> = {
  'auth-overhead': authOverhead,
  'audit-log': auditLogBench,
  ingest: ingestBench,
  'ingest-backlog': ingestBacklogBench,
  'ingest-hunting': ingestHuntingBench,
  actions: actionsBench,
  'mass-isolation': massIsolationBench,
};

async function main(): Promise<void> {
  const only = process.argv[2];
  const names = only ? [only] : Object.keys(BENCHMARKS);
  for (const name of names) {
    const bench = BENCHMARKS[name];
    if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    const result = await bench();
    process.stdout.write(`${JSON.stringify({ benchmark: name, database: process.env.DATABASE_URL ? 'postgresql' : 'pglite', ...result })}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
