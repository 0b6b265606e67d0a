import { startSimulator, type StartOptions } from './index';

/**
 * `npm run simulator -- --port 9440 [--scenario file.json] [--load-audit f] [--load-alerts f]
 *   [--load-incidents f] [--load-signins f] [--load-machines f] [--load-tenant id] [--rebase-audit] [--generate-audit N]
 *   [--seed s] [--data-dir d] [--token-lifetime s] [--quiet]`
 * Prints exactly one JSON line on stdout (base URLs, CA path, tenants with credentials); diagnostics
 * go to stderr. Stops on SIGINT/SIGTERM.
 */

const USAGE =
  'usage: simulator [--port p] [--scenario file.json] [--load-audit f] [--load-alerts f] [--load-incidents f] [--load-signins f] [--load-machines f] [--load-tenant id] [--rebase-audit] [--generate-audit N] [--seed s] [--data-dir d] [--token-lifetime s] [--quiet]';

export function parseArgs(argv: string[]): StartOptions {
  const o: StartOptions = {};
  const push = (key: 'loadAudit' | 'loadAlerts' | 'loadIncidents' | 'loadSignins' | 'loadMachines', v: string) => {
    o[key] = [...((o[key] as string[] | undefined) ?? []), v];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a non-negative integer, got ${v}`);
      return n;
    };
    switch (flag) {
      case '--port':
        o.port = int(value());
        break;
      case '--scenario':
        o.scenario = value();
        break;
      case '--load-audit':
        push('loadAudit', value());
        break;
      case '--load-alerts':
        push('loadAlerts', value());
        break;
      case '--load-incidents':
        push('loadIncidents', value());
        break;
      case '--load-signins':
        push('loadSignins', value());
        break;
      case '--load-machines':
        push('loadMachines', value());
        break;
      case '--load-tenant':
        o.loadTenant = value();
        break;
      case '--rebase-audit':
        o.rebaseAudit = true;
        break;
      case '--generate-audit':
        o.generateAudit = int(value());
        break;
      case '--generate-audit-days':
        o.generateAuditDays = Number(value());
        break;
      case '--seed': {
        const v = value();
        o.seed = /^\d+$/.test(v) ? Number(v) : v;
        break;
      }
      case '--data-dir':
        o.dataDir = value();
        break;
      case '--token-lifetime':
        o.tokenLifetimeSeconds = int(value());
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return o;
}

async function main() {
  let options: StartOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const sim = await startSimulator(options);
  process.stdout.write(`${JSON.stringify({ baseUrls: sim.baseUrls, caCertPath: sim.caCertPath, tenants: sim.tenants })}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[sim] ${signal}: stopping\n`);
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`[sim] failed to start: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
