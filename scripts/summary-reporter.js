// Prints one plain closing line ("N passed, N failed, N skipped") after Jest's own summary.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const label = process.env.CORDON_TEST_LABEL ? `${process.env.CORDON_TEST_LABEL}: ` : '';
    process.stdout.write(`${label}${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}
module.exports = SummaryReporter;
