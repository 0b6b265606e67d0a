import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AppModule } from './app.module';
import { ApiKeysService } from './auth/api-keys.service';
import { ROLES, Role } from './access/roles';
import { createLogger, PinoNestLogger } from './common/logger';
import { loadConfigOrExit } from './config/load-or-exit';
import { KeyRotationService } from './tenants/key-rotation.service';
import { azureCliScript, manifestOf, requiredResourceAccess, UnknownModuleError, type ManifestModuleView } from './onboarding/manifest';

/** Operators at the shell are recorded in the audit log as the system's CLI. */
const CLI_CONTEXT = { actor: { type: 'system' as const, id: 'cli', name: `cli (${userInfo().username})` }, requestId: randomUUID() };

const USAGE = `Usage: npm run cli -- <command>

  api-keys create --name <name> --roles <role[,role]> [--tenants <id[,id]>] [--expires-at <RFC 3339>]
  api-keys list
  api-keys revoke <id>
  rotate-encryption-key
  manifest [--modules <name[,name]>] [--format json|required-resource-access|azure-cli]
                             the application permissions Cordon's app registration needs (no database)

Roles: ${ROLES.join(', ')}. With the embedded database, stop the service first (one process at a time).`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** `manifest`: what to grant, from the same capability checks the probe runs; printed, nothing started. */
function printManifest(args: string[]): void {
  const { values } = parseArgs({ args, options: { modules: { type: 'string' }, format: { type: 'string' } } });
  const format = values.format ?? 'json';
  if (!['json', 'required-resource-access', 'azure-cli'].includes(format)) fail(`unknown --format ${format}`);
  let modules: ManifestModuleView[];
  try {
    modules = manifestOf(
      values.modules
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    );
  } catch (error) {
    if (error instanceof UnknownModuleError) fail(error.message);
    throw error;
  }
  if (format === 'azure-cli') process.stdout.write(azureCliScript(modules));
  else if (format === 'required-resource-access') process.stdout.write(`${JSON.stringify(requiredResourceAccess(modules), null, 2)}\n`);
  else process.stdout.write(`${JSON.stringify({ modules, requiredResourceAccess: requiredResourceAccess(modules) }, null, 2)}\n`);
}

function parseCreate(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, roles: { type: 'string' }, tenants: { type: 'string' }, 'expires-at': { type: 'string' } },
  });
  if (!values.name) fail('--name is required');
  const roles = (values.roles ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (roles.length === 0) fail('--roles is required');
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length) fail(`unknown role(s): ${unknown.join(', ')}`);
  const expiresAt = values['expires-at'] ? new Date(values['expires-at']) : undefined;
  if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) fail('--expires-at must be a future RFC 3339 date-time');
  const tenantIds = values.tenants
    ?.split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  return { name: values.name, roles: roles as Role[], tenantIds, expiresAt };
}

async function main(argv: string[]): Promise<void> {
  const [group, command, ...rest] = argv;
  if (group === 'rotate-encryption-key') return rotateEncryptionKey();
  if (group === 'manifest') return printManifest(argv.slice(1));
  if (group !== 'api-keys' || !command) fail('unknown command');
  const config = { ...loadConfigOrExit(), workers: false };
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: new PinoNestLogger(logger) });
  const apiKeys = app.get(ApiKeysService);
  try {
    if (command === 'create') {
      const created = await apiKeys.create(parseCreate(rest), CLI_CONTEXT);
      process.stdout.write(`${JSON.stringify(created, null, 2)}\n\nThe key is shown once: ${created.key}\n`);
    } else if (command === 'list') {
      let cursor: string | undefined;
      do {
        const page = await apiKeys.list({ limit: 1000, cursor });
        for (const key of page.items) process.stdout.write(`${JSON.stringify(key)}\n`);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    } else if (command === 'revoke') {
      if (!rest[0]) fail('revoke needs the key id');
      await apiKeys.revoke(rest[0], CLI_CONTEXT);
      process.stdout.write(`revoked ${rest[0]}\n`);
    } else {
      fail(`unknown command api-keys ${command}`);
    }
  } finally {
    await app.close();
  }
}

/**
 * Re-encrypts every tenant credential under the current key. With the embedded key file a new key is
 * made first; with CORDON_ENCRYPTION_KEY set the new key is that one and the old one is listed in
 * CORDON_ENCRYPTION_PREVIOUS_KEYS for this run.
 */
async function rotateEncryptionKey(): Promise<void> {
  const config = { ...loadConfigOrExit(), workers: false };
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: new PinoNestLogger(createLogger('warn')) });
  try {
    const { keyId, reencrypted, others } = await app.get(KeyRotationService).rotate();
    const more = Object.entries(others)
      .map(([name, count]) => `, ${count} ${name}`)
      .join('');
    process.stdout.write(`re-encrypted ${reencrypted} tenant credential(s)${more} under key ${keyId}\n`);
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
