import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../../..');

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Every process a test started and that has not exited: killed when the test process exits, whatever the
 * test did. Kept on `process` (shared by every test file in one Jest worker) so one exit hook serves them all.
 */
const RUNNING = Symbol.for('cordon.test.spawned');
const holder = process as unknown as { [RUNNING]?: Set<ChildProcess> };
const running: Set<ChildProcess> = holder[RUNNING] ?? (holder[RUNNING] = new Set());
if (process.listeners('exit').every((listener) => listener.name !== 'killSpawned')) {
  process.once('exit', function killSpawned() {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Runs a built entry point (`dist/src/<entry>.js`) as operators do. */
export function spawnEntry(entry: string, env: Record<string, string | undefined>, args: string[] = []): Spawned {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src', `${entry}.js`), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function waitForOutput(read: () => string, pattern: RegExp, timeoutMs = 60000): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = read().match(pattern);
    if (match) return match;
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; output so far:\n${read()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
