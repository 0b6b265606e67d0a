import { resolve } from 'node:path';

/**
 * Every setting Cordon reads, validated once at start. Nothing else reads `process.env`.
 * Each variable is documented in the README ("Configuration").
 */
export interface AppConfig {
  port: number;
  host: string;
  /** PostgreSQL connection string; undefined ⇒ embedded PGlite under `dataDir`. */
  databaseUrl?: string;
  databasePoolMax: number;
  dataDir: string;
  /** Run job workers in this process. */
  workers: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  shutdownTimeoutSeconds: number;
  bootstrapAdminKey?: string;
  /** Entra ID sign-in for analysts' tools; all three set, or none. */
  entra?: { issuer: string; audience: string; jwksUrl: string };
  /** Extra CA (PEM file) trusted for Microsoft endpoints and the Entra JWKS. */
  microsoftCaFile?: string;
  /** Base URLs that replace every cloud's Microsoft hosts (the simulator); undefined ⇒ the real clouds. */
  microsoftEndpoints?: MicrosoftEndpoints;
  /** Per-request timeout for calls to Microsoft. */
  microsoftTimeoutSeconds: number;
  /** Retries after the first attempt when Microsoft throttles or is unavailable. */
  microsoftMaxRetries: number;
  /** Requests in flight at once per tenant and Microsoft API. */
  microsoftConcurrency: number;
  /** Serve /metrics on this port instead of the API port. */
  metricsPort?: number;
  /** Tenant credential encryption key (base64, 32 bytes); undefined ⇒ the key file in dataDir (embedded only). */
  encryptionKey?: string;
  /** Earlier keys, for decryption only, until `rotate-encryption-key` has re-encrypted everything. */
  encryptionPreviousKeys: string[];
  /** How long an action's runner holds it without renewing; after that another process may resume it. */
  actionLeaseSeconds: number;
  /** Key for HMACs in the audit log (values provable without being stored); default: a key file in dataDir. */
  auditHmacKey?: Buffer;
  /** Events older than this many days are removed by the daily retention job. */
  eventsRetentionDays: number;
  /** Telemetry collection (README "Telemetry collection"). */
  collection: CollectionConfig;
}

export interface CollectionConfig {
  /** Default minutes between runs of a tenant's stream (each stream can be changed over the API). */
  intervalMinutes: number;
  /** How far behind the cursor each run lists again, for content that became available late. */
  overlapMinutes: number;
  /** How far back a stream's first run reaches (at most 168 h: the API keeps 7 days). */
  initialLookbackHours: number;
  /** Content blobs in hand at once per tenant (all its streams together). */
  concurrency: number;
  /** Attempts at a failing blob before it is reported as a gap. */
  maxBlobAttempts: number;
  /** Collection runs each worker process handles at once. */
  workerConcurrency: number;
  /** How long a run's lease lasts without renewal: after a crash, the next run may start this much later. */
  leaseSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const API_KEY_PATTERN = /^cdn_[A-Za-z0-9_-]{43}$/;

/** Reads and validates the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!/^\d+$/.test(raw) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return parsed;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${env[name]}")`);
    return fallback;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = value(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.join(' or ')} URL (got "${parsed.protocol}")`);
      }
    } catch {
      problems.push(`${name} must be a URL`);
    }
    return raw;
  };

  const logLevel = (value('CORDON_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`CORDON_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const bootstrapAdminKey = value('CORDON_BOOTSTRAP_ADMIN_KEY');
  if (bootstrapAdminKey !== undefined && !API_KEY_PATTERN.test(bootstrapAdminKey)) {
    problems.push(
      'CORDON_BOOTSTRAP_ADMIN_KEY must be "cdn_" followed by 43 base64url characters (256 bits); ' +
        'generate one with: node -e "console.log(\'cdn_\'+require(\'crypto\').randomBytes(32).toString(\'base64url\'))"',
    );
  }

  const issuer = url('CORDON_ENTRA_ISSUER', ['https:', 'http:']);
  const audience = value('CORDON_ENTRA_AUDIENCE');
  const jwksUrl = url('CORDON_ENTRA_JWKS_URL', ['https:']);
  const entraSet = [issuer, audience, jwksUrl].filter((v) => v !== undefined).length;
  if (entraSet !== 0 && entraSet !== 3) {
    problems.push('CORDON_ENTRA_ISSUER, CORDON_ENTRA_AUDIENCE and CORDON_ENTRA_JWKS_URL must be set together');
  }

  const auditHmacKeyText = value('CORDON_AUDIT_HMAC_KEY');
  const auditHmacKey = auditHmacKeyText === undefined ? undefined : Buffer.from(auditHmacKeyText, 'base64');
  if (auditHmacKey !== undefined && auditHmacKey.length < 32) {
    problems.push('CORDON_AUDIT_HMAC_KEY must be at least 32 bytes, base64-encoded');
  }

  const encryptionKey = value('CORDON_ENCRYPTION_KEY');
  const encryptionPreviousKeys = (value('CORDON_ENCRYPTION_PREVIOUS_KEYS') ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  for (const [name, keys] of [['CORDON_ENCRYPTION_KEY', encryptionKey ? [encryptionKey] : []], ['CORDON_ENCRYPTION_PREVIOUS_KEYS', encryptionPreviousKeys]] as const) {
    if (keys.some((k) => Buffer.from(k, 'base64').length !== 32)) problems.push(`${name} must hold 32-byte keys, base64-encoded`);
  }
  if (value('DATABASE_URL') !== undefined && encryptionKey === undefined) {
    problems.push('CORDON_ENCRYPTION_KEY is required with DATABASE_URL (every replica must encrypt tenant credentials with the same key)');
  }

  const config: AppConfig = {
    port: integer('PORT', 3000, 0, 65535),
    host: value('HOST') ?? '0.0.0.0',
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolMax: integer('CORDON_DATABASE_POOL_MAX', 10, 1, 1000),
    dataDir: resolve(value('CORDON_DATA_DIR') ?? './data'),
    workers: boolean('CORDON_WORKERS', true),
    logLevel: logLevel as AppConfig['logLevel'],
    shutdownTimeoutSeconds: integer('CORDON_SHUTDOWN_TIMEOUT_S', 30, 1, 3600),
    bootstrapAdminKey,
    entra: entraSet === 3 ? { issuer: issuer!, audience: audience!, jwksUrl: jwksUrl! } : undefined,
    microsoftCaFile: value('CORDON_MICROSOFT_CA_FILE'),
    microsoftEndpoints: microsoftEndpoints(value('CORDON_MICROSOFT_ENDPOINTS'), problems),
    microsoftTimeoutSeconds: integer('CORDON_MICROSOFT_TIMEOUT_S', 30, 1, 600),
    microsoftMaxRetries: integer('CORDON_MICROSOFT_MAX_RETRIES', 4, 0, 10),
    microsoftConcurrency: integer('CORDON_MICROSOFT_CONCURRENCY', 4, 1, 64),
    metricsPort: value('CORDON_METRICS_PORT') === undefined ? undefined : integer('CORDON_METRICS_PORT', 0, 1, 65535),
    auditHmacKey,
    encryptionKey,
    encryptionPreviousKeys,
    actionLeaseSeconds: integer('CORDON_ACTION_LEASE_S', 30, 2, 3600),
    eventsRetentionDays: integer('CORDON_EVENTS_RETENTION_DAYS', 90, 1, 3650),
    collection: {
      intervalMinutes: integer('CORDON_COLLECTION_INTERVAL_MINUTES', 5, 1, 1440),
      overlapMinutes: integer('CORDON_COLLECTION_OVERLAP_MINUTES', 60, 0, 1440),
      initialLookbackHours: integer('CORDON_COLLECTION_INITIAL_LOOKBACK_HOURS', 168, 1, 168),
      concurrency: integer('CORDON_COLLECTION_CONCURRENCY', 4, 1, 32),
      maxBlobAttempts: integer('CORDON_COLLECTION_MAX_BLOB_ATTEMPTS', 3, 1, 20),
      workerConcurrency: integer('CORDON_COLLECTION_WORKER_CONCURRENCY', 4, 1, 64),
      leaseSeconds: integer('CORDON_COLLECTION_LEASE_S', 60, 3, 3600),
    },
  };
  if (config.metricsPort !== undefined && config.metricsPort === config.port) {
    problems.push('CORDON_METRICS_PORT must differ from PORT');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The four Microsoft services Cordon calls, as base URLs (`https://host[:port]`). */
export interface MicrosoftEndpoints {
  login: string;
  graph: string;
  manage: string;
  defender: string;
}

const MICROSOFT_ENDPOINT_KEYS = ['login', 'graph', 'manage', 'defender'] as const;

/**
 * `CORDON_MICROSOFT_ENDPOINTS`: a JSON object with exactly the keys login, graph, manage and defender,
 * each an https base URL without a path (the simulator prints them as `baseUrls`).
 */
function microsoftEndpoints(raw: string | undefined, problems: string[]): MicrosoftEndpoints | undefined {
  if (raw === undefined) return undefined;
  const name = 'CORDON_MICROSOFT_ENDPOINTS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${name} must be JSON, e.g. {"login":"https://localhost:4100","graph":"https://localhost:4101",...}`);
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON object with the keys ${MICROSOFT_ENDPOINT_KEYS.join(', ')}`);
    return undefined;
  }
  const before = problems.length;
  const entries = parsed as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    if (!(MICROSOFT_ENDPOINT_KEYS as readonly string[]).includes(key)) {
      problems.push(`${name} has an unknown key "${key}" (allowed: ${MICROSOFT_ENDPOINT_KEYS.join(', ')})`);
    }
  }
  const result: Record<string, string> = {};
  for (const key of MICROSOFT_ENDPOINT_KEYS) {
    const value = entries[key];
    if (value === undefined) {
      problems.push(`${name} is missing the key "${key}"`);
      continue;
    }
    let url: URL | undefined;
    try {
      url = typeof value === 'string' ? new URL(value) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      problems.push(`${name}.${key} must be an https base URL without a path, e.g. "https://localhost:4100" (got ${JSON.stringify(value)})`);
      continue;
    }
    result[key] = url.origin;
  }
  return problems.length === before ? (result as unknown as MicrosoftEndpoints) : undefined;
}
