import { resolve } from 'node:path';
import { AllowedHost, parseAllowedHosts } from '../common/outbound-url';

/**
 * Every setting Cordon reads, validated once at start. Nothing else reads `process.env`.
 * Each variable is documented in the README ("Configuration").
 */
export interface AppConfig {
  port: number;
  /** Where browsers reach Cordon (`CORDON_PUBLIC_URL`): the admin-consent callback is sent there. */
  publicUrl: string;
  host: string;
  /** PostgreSQL connection string; undefined ⇒ embedded PGlite under `dataDir`. */
  databaseUrl?: string;
  databasePoolMax: number;
  /** Name the statements run over and over, so PostgreSQL parses and plans each once per connection. */
  databasePreparedStatements: boolean;
  dataDir: string;
  /** Run job workers in this process. */
  workers: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  shutdownTimeoutSeconds: number;
  bootstrapAdminKey?: string;
  /** How long a process may use an API-key lookup without reading it again (0: no cache); revocation does not wait for it. */
  apiKeyCacheSeconds: number;
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
  /** How long a request holds its Idempotency-Key without renewing it; a retry after a crash waits at most this. */
  idempotencyHoldSeconds: number;
  /** The shortest `releaseAfter` / `releaseAt` accepted: 60 (PT1M, the documented minimum); lower only in tests. */
  releaseMinSeconds: number;
  /** Key for HMACs in the audit log (values provable without being stored); default: a key file in dataDir. */
  auditHmacKey?: Buffer;
  /** Events older than this many days are removed by the daily retention job. */
  eventsRetentionDays: number;
  /** Telemetry collection (README "Telemetry collection"). */
  collection: CollectionConfig;
  /** Defender for Endpoint device inventory, actions and pacing (README "Device containment"). */
  defenderEndpoint: DefenderEndpointConfig;
  /** Entra sign-ins, directory audits and risk detections (README "Entra and Purview telemetry"). */
  entraTelemetry: EntraTelemetryConfig;
  /** Purview audit search (README "Entra and Purview telemetry"). */
  purviewSearch: PurviewSearchConfig;
  /** Defender XDR alerts and incidents through Graph (README "Alerts, incidents and the webhook"). */
  graphSecurity: GraphSecurityConfig;
  /** Defender XDR Advanced Hunting: collection and on-demand queries (README "Advanced Hunting"). */
  hunting: HuntingConfig;
  /** The per-tenant outbound webhook (README "Alerts, incidents and the webhook"). */
  webhooks: WebhooksConfig;
}

export interface GraphSecurityConfig {
  /** How far behind the cursor (the newest lastUpdateDateTime stored) each run lists again. */
  overlapMinutes: number;
  /** `$top` for alerts_v2 (Graph allows at most 1000, microsoft-notes M8). */
  alertsPageSize: number;
  /** `$top` for incidents (peers use 50). */
  incidentsPageSize: number;
}

export interface HuntingConfig {
  /** How far behind its watermark each run queries again, for rows that arrive late (microsoft-notes M40). */
  overlapMinutes: number;
  /** The longest time slice one collection query covers (microsoft-notes M39). */
  sliceMinutes: number;
  /** `take` of a collection query; a full answer is continued from its last Timestamp (Microsoft's cap is 100,000). */
  rowsPerQuery: number;
  /** Rows an on-demand query returns at most. */
  onDemandMaxRows: number;
  /** Calls per minute Cordon makes per tenant, all streams and on-demand queries together (Microsoft allows at least 45). */
  callsPerMinute: number;
}

export interface WebhooksConfig {
  /** Attempts at one delivery before it is marked failed. */
  maxAttempts: number;
  /** First wait before a retry; pg-boss doubles it each time. */
  retryDelaySeconds: number;
  /** Per-attempt timeout of the receiver's answer. */
  timeoutSeconds: number;
  /** Hosts a webhook may reach although internal (and over plain http): the only exception to the outbound rule. */
  allowedHosts: AllowedHost[];
}

export interface EntraTelemetryConfig {
  /** How far behind the cursor each run reads again: sign-ins and audits arrive late (microsoft-notes §3.1). */
  overlapMinutes: number;
  /** Least time between two Identity Protection requests per tenant (Microsoft allows 1 per second, microsoft-notes §3.5). */
  identityProtectionIntervalMs: number;
}

export interface PurviewSearchConfig {
  /** First wait before polling a new audit search; doubles up to `maxPollSeconds`. */
  pollSeconds: number;
  maxPollSeconds: number;
  /** Searches still not finished after this many hours are marked failed. */
  timeoutHours: number;
}

export interface DefenderEndpointConfig {
  /** Minutes between device inventory syncs of each tenant with Defender. */
  inventoryIntervalMinutes: number;
  /** Calls per minute and per hour Cordon allows itself per tenant and Defender API (Microsoft: 100 and 1,500). */
  ratePerMinute: number;
  ratePerHour: number;
  /** Divides the pacing windows (60 s, 3,600 s): only for a simulator whose clock runs this many times faster. */
  rateTimeScale: number;
  /** Extra spacing (ms, before scaling) between a call and the one whose window it frees, for clock and network skew. */
  rateMarginMs: number;
  /** First wait before polling a machine action; doubles up to the maximum. */
  pollInitialMs: number;
  pollMaxMs: number;
  /** Active custom indicators a tenant may hold (Microsoft: 15,000, microsoft-notes M46); lower it to leave room for other tools. */
  indicatorLimit: number;
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
  /** Wait before a throttled stream resumes when Microsoft sends no Retry-After (doubles while nothing gets through, to 4× it, at most 60 s). */
  throttleBackoffSeconds: number;
  /** Longest a run waits out throttling in all before it ends `throttled` and reschedules itself (0: never waits in the run). */
  throttleMaxWaitSeconds: number;
  /**
   * `PublisherIdentifier` on every Management Activity API call (microsoft-notes M57): a GUID, or
   * undefined for each customer tenant's own id.
   */
  managePublisherId?: string;
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
  const guid = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw)) {
      problems.push(`${name} must be a tenant GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301 (got "${raw}")`);
      return undefined;
    }
    return raw.toLowerCase();
  };
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
        "generate one with: node -e \"console.log('cdn_'+require('crypto').randomBytes(32).toString('base64url'))\"",
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
  const encryptionPreviousKeys = (value('CORDON_ENCRYPTION_PREVIOUS_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const [name, keys] of [
    ['CORDON_ENCRYPTION_KEY', encryptionKey ? [encryptionKey] : []],
    ['CORDON_ENCRYPTION_PREVIOUS_KEYS', encryptionPreviousKeys],
  ] as const) {
    if (keys.some((k) => Buffer.from(k, 'base64').length !== 32)) problems.push(`${name} must hold 32-byte keys, base64-encoded`);
  }
  if (value('DATABASE_URL') !== undefined && encryptionKey === undefined) {
    problems.push('CORDON_ENCRYPTION_KEY is required with DATABASE_URL (every replica must encrypt tenant credentials with the same key)');
  }

  const port = integer('PORT', 3000, 0, 65535);
  const config: AppConfig = {
    port,
    publicUrl: (url('CORDON_PUBLIC_URL', ['https:', 'http:']) ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    host: value('HOST') ?? '0.0.0.0',
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolMax: integer('CORDON_DATABASE_POOL_MAX', 10, 1, 1000),
    databasePreparedStatements: boolean('CORDON_DATABASE_PREPARED_STATEMENTS', true),
    dataDir: resolve(value('CORDON_DATA_DIR') ?? './data'),
    workers: boolean('CORDON_WORKERS', true),
    logLevel: logLevel as AppConfig['logLevel'],
    shutdownTimeoutSeconds: integer('CORDON_SHUTDOWN_TIMEOUT_S', 30, 1, 3600),
    bootstrapAdminKey,
    apiKeyCacheSeconds: integer('CORDON_API_KEY_CACHE_S', 30, 0, 3600),
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
    idempotencyHoldSeconds: integer('CORDON_IDEMPOTENCY_HOLD_S', 30, 2, 3600),
    releaseMinSeconds: integer('CORDON_RELEASE_MIN_S', 60, 1, 60),
    eventsRetentionDays: integer('CORDON_EVENTS_RETENTION_DAYS', 90, 1, 3650),
    collection: {
      intervalMinutes: integer('CORDON_COLLECTION_INTERVAL_MINUTES', 5, 1, 1440),
      overlapMinutes: integer('CORDON_COLLECTION_OVERLAP_MINUTES', 60, 0, 1440),
      initialLookbackHours: integer('CORDON_COLLECTION_INITIAL_LOOKBACK_HOURS', 168, 1, 168),
      concurrency: integer('CORDON_COLLECTION_CONCURRENCY', 4, 1, 32),
      maxBlobAttempts: integer('CORDON_COLLECTION_MAX_BLOB_ATTEMPTS', 3, 1, 20),
      workerConcurrency: integer('CORDON_COLLECTION_WORKER_CONCURRENCY', 4, 1, 64),
      leaseSeconds: integer('CORDON_COLLECTION_LEASE_S', 60, 3, 3600),
      throttleBackoffSeconds: integer('CORDON_COLLECTION_THROTTLE_BACKOFF_S', 5, 1, 600),
      throttleMaxWaitSeconds: integer('CORDON_COLLECTION_THROTTLE_MAX_WAIT_S', 300, 0, 3600),
      managePublisherId: guid('CORDON_MANAGE_PUBLISHER_ID'),
    },
    defenderEndpoint: {
      inventoryIntervalMinutes: integer('CORDON_DEFENDER_INVENTORY_INTERVAL_MINUTES', 60, 1, 1440),
      ratePerMinute: integer('CORDON_DEFENDER_RATE_PER_MINUTE', 100, 1, 100),
      ratePerHour: integer('CORDON_DEFENDER_RATE_PER_HOUR', 1500, 1, 1500),
      rateTimeScale: integer('CORDON_DEFENDER_RATE_TIME_SCALE', 1, 1, 3600),
      rateMarginMs: integer('CORDON_DEFENDER_RATE_MARGIN_MS', 1000, 0, 60000),
      pollInitialMs: integer('CORDON_DEFENDER_POLL_INITIAL_MS', 10000, 100, 3600000),
      pollMaxMs: integer('CORDON_DEFENDER_POLL_MAX_MS', 300000, 100, 86400000),
      indicatorLimit: integer('CORDON_DEFENDER_INDICATOR_LIMIT', 15000, 1, 15000),
    },
    entraTelemetry: {
      overlapMinutes: integer('CORDON_ENTRA_OVERLAP_MINUTES', 60, 0, 1440),
      identityProtectionIntervalMs: integer('CORDON_ENTRA_IDENTITY_PROTECTION_INTERVAL_MS', 1100, 1000, 60000),
    },
    purviewSearch: {
      pollSeconds: integer('CORDON_PURVIEW_POLL_S', 30, 1, 3600),
      maxPollSeconds: integer('CORDON_PURVIEW_MAX_POLL_S', 300, 1, 3600),
      timeoutHours: integer('CORDON_PURVIEW_TIMEOUT_HOURS', 24, 1, 168),
    },
    graphSecurity: {
      overlapMinutes: integer('CORDON_GRAPH_SECURITY_OVERLAP_MINUTES', 30, 0, 1440),
      alertsPageSize: integer('CORDON_GRAPH_SECURITY_ALERTS_PAGE_SIZE', 500, 1, 1000),
      incidentsPageSize: integer('CORDON_GRAPH_SECURITY_INCIDENTS_PAGE_SIZE', 50, 1, 1000),
    },
    hunting: {
      overlapMinutes: integer('CORDON_HUNTING_OVERLAP_MINUTES', 30, 0, 1440),
      sliceMinutes: integer('CORDON_HUNTING_SLICE_MINUTES', 60, 1, 1440),
      rowsPerQuery: integer('CORDON_HUNTING_ROWS_PER_QUERY', 10_000, 1, 100_000),
      onDemandMaxRows: integer('CORDON_HUNTING_MAX_ROWS', 1000, 1, 100_000),
      callsPerMinute: integer('CORDON_HUNTING_CALLS_PER_MINUTE', 40, 1, 45),
    },
    webhooks: {
      maxAttempts: integer('CORDON_WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
      retryDelaySeconds: integer('CORDON_WEBHOOK_RETRY_DELAY_S', 10, 1, 3600),
      timeoutSeconds: integer('CORDON_WEBHOOK_TIMEOUT_S', 10, 1, 120),
      allowedHosts: parseAllowedHosts(value('CORDON_WEBHOOK_ALLOWED_HOSTS'), 'CORDON_WEBHOOK_ALLOWED_HOSTS', problems),
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
