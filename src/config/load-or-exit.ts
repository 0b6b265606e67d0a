import { AppConfig, ConfigError, loadConfig } from './config';

/** Entry points call this first: an invalid environment prints one line per problem and exits 1. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Cordon cannot start: invalid configuration\n${error.problems.map((p) => `  - ${p}\n`).join('')}`);
    process.exit(1);
  }
}
