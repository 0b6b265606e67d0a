import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SimTenantInfo } from '../test/m365-simulator/src';

const ROOT = join(__dirname, '..');

/** What the simulator prints as its first stdout line. */
export interface SimInfo {
  baseUrls: Record<string, string>;
  caCertPath: string;
  tenants: SimTenantInfo[];
}

/**
 * The simulator in its own process (`test/m365-simulator/src/cli.ts --scenario <file> --data-dir <dir>`
 * plus `args`), so that its CPU and memory are not the benchmarked process's. Answers once it printed
 * its info; killed if it exits first.
 */
export async function startSimulatorProcess(scenario: string, dir: string, args: string[] = []): Promise<{ info: SimInfo; child: ChildProcess }> {
  const child = spawn(
    join(ROOT, 'node_modules/.bin/tsx'),
    ['test/m365-simulator/src/cli.ts', '--port', '0', '--scenario', scenario, '--data-dir', dir, '--quiet', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const info = await new Promise<SimInfo>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as SimInfo);
      });
      child.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    });
    return { info, child };
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
}

/** Stops a child process and waits for it to exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
