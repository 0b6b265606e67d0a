// Prints one plain closing line ("N passed, N failed, N skipped") after Jest's own summary, and, when
// something a test started is still holding the process open after the run (Jest then waits forever unless
// --forceExit), what that is, so a leak shows in CI's log by name instead of as a timeout.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const label = process.env.CORDON_TEST_LABEL ? `${process.env.CORDON_TEST_LABEL}: ` : '';
    process.stdout.write(`${label}${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
    const lingering = process.getActiveResourcesInfo().filter((kind) => !['TTYWrap', 'SignalWrap'].includes(kind));
    if (lingering.length > 0) process.stdout.write(`${label}still open after the run: ${summarize(lingering)}\n`);
  }
}

function summarize(kinds) {
  const counts = new Map();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind} ×${n}`).join(', ');
}

module.exports = SummaryReporter;
