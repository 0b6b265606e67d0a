#!/usr/bin/env node
// `npm start` on a fresh clone: compile when dist/ is missing or older than any source file.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const marker = join(root, 'dist', 'src', 'main.js');

function newestMtime(dir, skip = []) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.includes(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const stale = !existsSync(marker) || newestMtime(join(root, 'src')) > statSync(marker).mtimeMs;
if (stale) {
  process.stderr.write('building Cordon (tsc)...\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
}

// The console (console/, served at /console): built when missing or older than its sources or the OpenAPI document.
const consoleMarker = join(root, 'dist', 'console', 'app.js');
const consoleSources = Math.max(newestMtime(join(root, 'console'), ['generated']), statSync(join(root, 'openapi', 'openapi.json')).mtimeMs);
if (!existsSync(consoleMarker) || consoleSources > statSync(consoleMarker).mtimeMs) {
  process.stderr.write('building the console (esbuild)...\n');
  execFileSync(process.execPath, [join(root, 'scripts', 'build-console.js')], { stdio: 'inherit', cwd: root });
}
