// Runs every vitest project (node + real Chromium) and prints the plain closing line
// "N passed, N failed" that CI reads, keeping vitest's exit code.
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, rmSync } from 'node:fs';

const results = '.vitest-results.json';
rmSync(results, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });
let code = run.status ?? 1;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  // A suite that fails to load has no failed test in it; count it so the line cannot read green.
  const failed = r.numFailedTests + (r.numFailedTests === 0 ? (r.numFailedTestSuites ?? 0) : 0);
  console.log(`${r.numPassedTests} passed, ${failed} failed`);
  if (r.numTotalTests === 0) code = code || 1;
} else {
  console.log('0 passed, 1 failed');
  code = code || 1;
}
process.exit(code);
