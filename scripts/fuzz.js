#!/usr/bin/env node
// `npm run fuzz -- [--runs N] [--seed S] [jest args]`: the OpenAPI-driven fuzz suite with more requests per
// operation (CORDON_FUZZ_RUNS) or another seed (CORDON_FUZZ_SEED). Set DATABASE_URL to fuzz on PostgreSQL.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const args = process.argv.slice(2);
const env = { ...process.env };
const rest = [];
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  if (flag === '--runs' || flag === '--seed') {
    const value = inline ?? args[++i];
    if (!/^\d+$/.test(value ?? '')) {
      console.error(`${flag} needs a whole number`);
      process.exit(2);
    }
    env[flag === '--runs' ? 'CORDON_FUZZ_RUNS' : 'CORDON_FUZZ_SEED'] = value;
  } else {
    rest.push(args[i]);
  }
}
const jest = join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(process.execPath, ['--experimental-vm-modules', jest, '--selectProjects', 'fuzz', '--runInBand', ...rest], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
