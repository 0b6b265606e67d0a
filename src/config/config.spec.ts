import { ConfigError, loadConfig } from './config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const SIM_ENDPOINTS = {
  login: 'https://localhost:4100',
  graph: 'https://localhost:4101',
  manage: 'https://localhost:4102',
  defender: 'https://localhost:4103',
};

describe('loadConfig', () => {
  it('needs nothing: embedded database under ./data, port 3000, workers on', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, databaseUrl: undefined, workers: true, logLevel: 'info', shutdownTimeoutSeconds: 30 });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.entra).toBeUndefined();
  });

  it('reads every setting', () => {
    const key = 'cdn_' + 'a'.repeat(43);
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u@db:5432/cordon',
      CORDON_DATABASE_POOL_MAX: '20',
      CORDON_DATABASE_PREPARED_STATEMENTS: 'false',
      CORDON_DATA_DIR: '/var/lib/cordon',
      CORDON_WORKERS: 'false',
      CORDON_LOG_LEVEL: 'debug',
      CORDON_SHUTDOWN_TIMEOUT_S: '5',
      CORDON_BOOTSTRAP_ADMIN_KEY: key,
      CORDON_API_KEY_CACHE_S: '10',
      CORDON_ENTRA_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      CORDON_ENTRA_AUDIENCE: 'api://cordon',
      CORDON_ENTRA_JWKS_URL: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      CORDON_MICROSOFT_CA_FILE: '/etc/ca.pem',
      CORDON_MICROSOFT_ENDPOINTS: JSON.stringify(SIM_ENDPOINTS),
      CORDON_MICROSOFT_TIMEOUT_S: '10',
      CORDON_MICROSOFT_MAX_RETRIES: '2',
      CORDON_MICROSOFT_CONCURRENCY: '8',
      CORDON_METRICS_PORT: '9464',
      CORDON_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      CORDON_ENCRYPTION_PREVIOUS_KEYS: `${Buffer.alloc(32, 2).toString('base64')}, ${Buffer.alloc(32, 3).toString('base64')}`,
      CORDON_AUDIT_HMAC_KEY: Buffer.alloc(32, 4).toString('base64'),
      CORDON_EVENTS_RETENTION_DAYS: '30',
      CORDON_COLLECTION_INTERVAL_MINUTES: '10',
      CORDON_COLLECTION_OVERLAP_MINUTES: '90',
      CORDON_COLLECTION_INITIAL_LOOKBACK_HOURS: '24',
      CORDON_COLLECTION_CONCURRENCY: '8',
      CORDON_COLLECTION_MAX_BLOB_ATTEMPTS: '5',
      CORDON_COLLECTION_WORKER_CONCURRENCY: '2',
      CORDON_COLLECTION_LEASE_S: '20',
      CORDON_COLLECTION_THROTTLE_BACKOFF_S: '5',
      CORDON_COLLECTION_THROTTLE_MAX_WAIT_S: '0',
      CORDON_MANAGE_PUBLISHER_ID: ' 3F2504E0-4F89-11D3-9A0C-0305E82C3301 ',
      CORDON_DEFENDER_INVENTORY_INTERVAL_MINUTES: '30',
      CORDON_DEFENDER_RATE_PER_MINUTE: '90',
      CORDON_DEFENDER_RATE_PER_HOUR: '1400',
      CORDON_DEFENDER_RATE_TIME_SCALE: '10',
      CORDON_DEFENDER_RATE_MARGIN_MS: '500',
      CORDON_DEFENDER_POLL_INITIAL_MS: '2000',
      CORDON_DEFENDER_POLL_MAX_MS: '60000',
      CORDON_ENTRA_OVERLAP_MINUTES: '45',
      CORDON_ENTRA_IDENTITY_PROTECTION_INTERVAL_MS: '1500',
      CORDON_PURVIEW_POLL_S: '20',
      CORDON_PURVIEW_MAX_POLL_S: '120',
      CORDON_PURVIEW_TIMEOUT_HOURS: '12',
      CORDON_GRAPH_SECURITY_OVERLAP_MINUTES: '15',
      CORDON_GRAPH_SECURITY_ALERTS_PAGE_SIZE: '1000',
      CORDON_GRAPH_SECURITY_INCIDENTS_PAGE_SIZE: '25',
      CORDON_HUNTING_OVERLAP_MINUTES: '20',
      CORDON_HUNTING_SLICE_MINUTES: '30',
      CORDON_HUNTING_ROWS_PER_QUERY: '5000',
      CORDON_HUNTING_MAX_ROWS: '200',
      CORDON_HUNTING_CALLS_PER_MINUTE: '30',
      CORDON_WEBHOOK_MAX_ATTEMPTS: '4',
      CORDON_WEBHOOK_RETRY_DELAY_S: '2',
      CORDON_WEBHOOK_TIMEOUT_S: '5',
      CORDON_WEBHOOK_ALLOWED_HOSTS: 'soar.internal, 10.0.0.5:8443',
    });
    expect(config).toEqual({
      port: 8080,
      publicUrl: 'http://localhost:8080',
      host: '127.0.0.1',
      databaseUrl: 'postgres://u@db:5432/cordon',
      databasePoolMax: 20,
      databasePreparedStatements: false,
      dataDir: '/var/lib/cordon',
      workers: false,
      logLevel: 'debug',
      shutdownTimeoutSeconds: 5,
      bootstrapAdminKey: key,
      apiKeyCacheSeconds: 10,
      entra: {
        issuer: 'https://login.microsoftonline.com/t/v2.0',
        audience: 'api://cordon',
        jwksUrl: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      },
      microsoftCaFile: '/etc/ca.pem',
      microsoftEndpoints: SIM_ENDPOINTS,
      microsoftTimeoutSeconds: 10,
      microsoftMaxRetries: 2,
      microsoftConcurrency: 8,
      metricsPort: 9464,
      encryptionKey: Buffer.alloc(32, 1).toString('base64'),
      encryptionPreviousKeys: [Buffer.alloc(32, 2).toString('base64'), Buffer.alloc(32, 3).toString('base64')],
      auditHmacKey: Buffer.alloc(32, 4),
      actionLeaseSeconds: 30,
      idempotencyHoldSeconds: 30,
      releaseMinSeconds: 60,
      eventsRetentionDays: 30,
      collection: {
        intervalMinutes: 10,
        overlapMinutes: 90,
        initialLookbackHours: 24,
        concurrency: 8,
        maxBlobAttempts: 5,
        workerConcurrency: 2,
        leaseSeconds: 20,
        throttleBackoffSeconds: 5,
        throttleMaxWaitSeconds: 0,
        managePublisherId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      },
      defenderEndpoint: {
        inventoryIntervalMinutes: 30,
        ratePerMinute: 90,
        ratePerHour: 1400,
        rateTimeScale: 10,
        rateMarginMs: 500,
        pollInitialMs: 2000,
        pollMaxMs: 60000,
        indicatorLimit: 15000,
      },
      entraTelemetry: { overlapMinutes: 45, identityProtectionIntervalMs: 1500 },
      purviewSearch: { pollSeconds: 20, maxPollSeconds: 120, timeoutHours: 12 },
      graphSecurity: { overlapMinutes: 15, alertsPageSize: 1000, incidentsPageSize: 25 },
      hunting: { overlapMinutes: 20, sliceMinutes: 30, rowsPerQuery: 5000, onDemandMaxRows: 200, callsPerMinute: 30 },
      webhooks: {
        maxAttempts: 4,
        retryDelaySeconds: 2,
        timeoutSeconds: 5,
        allowedHosts: [{ hostname: 'soar.internal' }, { hostname: '10.0.0.5', port: '8443' }],
      },
    });
  });

  it('allows no internal webhook host by default and names a bad allow-list entry', () => {
    expect(loadConfig({}).webhooks.allowedHosts).toEqual([]);
    expect(problemsOf({ CORDON_WEBHOOK_ALLOWED_HOSTS: 'ok.internal,https://bad/' })).toEqual([
      expect.stringMatching(/^CORDON_WEBHOOK_ALLOWED_HOSTS must be a comma list of host or host:port .*\(got "https:\/\/bad\/"\)$/),
    ]);
  });

  it('needs the encryption key with an external database, and keys of 32 bytes', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://db/cordon' })).toEqual([expect.stringContaining('CORDON_ENCRYPTION_KEY is required with DATABASE_URL')]);
    expect(problemsOf({ CORDON_ENCRYPTION_KEY: 'c2hvcnQ=', CORDON_ENCRYPTION_PREVIOUS_KEYS: 'c2hvcnQ=' })).toEqual([
      'CORDON_ENCRYPTION_KEY must hold 32-byte keys, base64-encoded',
      'CORDON_ENCRYPTION_PREVIOUS_KEYS must hold 32-byte keys, base64-encoded',
    ]);
    expect(problemsOf({ CORDON_AUDIT_HMAC_KEY: 'c2hvcnQ=' })).toEqual(['CORDON_AUDIT_HMAC_KEY must be at least 32 bytes, base64-encoded']);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      PORT: '70000',
      DATABASE_URL: 'mysql://x',
      CORDON_WORKERS: 'maybe',
      CORDON_SHUTDOWN_TIMEOUT_S: '-1',
      CORDON_ENTRA_ISSUER: 'https://issuer',
      CORDON_BOOTSTRAP_ADMIN_KEY: 'cdn_short',
    });
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/PORT must be an integer between 0 and 65535/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL must be a postgres: or postgresql: URL/);
    expect(problems.join('\n')).toMatch(/CORDON_WORKERS must be true or false/);
    expect(problems.join('\n')).toMatch(/CORDON_SHUTDOWN_TIMEOUT_S must be an integer/);
    expect(problems.join('\n')).toMatch(/must be set together/);
    expect(problems.join('\n')).toMatch(/CORDON_BOOTSTRAP_ADMIN_KEY must be "cdn_"/);
  });

  it('never echoes a rejected secret', () => {
    expect(problemsOf({ CORDON_BOOTSTRAP_ADMIN_KEY: 'cdn_hunter2' }).join()).not.toContain('hunter2');
  });

  it('refuses a JWKS URL that is not https and a metrics port equal to the API port', () => {
    const problems = problemsOf({
      CORDON_ENTRA_ISSUER: 'https://i',
      CORDON_ENTRA_AUDIENCE: 'a',
      CORDON_ENTRA_JWKS_URL: 'http://insecure/keys',
      CORDON_METRICS_PORT: '3000',
    });
    expect(problems).toEqual([expect.stringContaining('CORDON_ENTRA_JWKS_URL must be a https: URL'), 'CORDON_METRICS_PORT must differ from PORT']);
  });

  it('defaults the Microsoft call settings and leaves the real clouds in place', () => {
    expect(loadConfig({})).toMatchObject({ microsoftEndpoints: undefined, microsoftTimeoutSeconds: 30, microsoftMaxRetries: 4, microsoftConcurrency: 4 });
  });

  it('drops a trailing slash from CORDON_MICROSOFT_ENDPOINTS', () => {
    const config = loadConfig({ CORDON_MICROSOFT_ENDPOINTS: JSON.stringify({ ...SIM_ENDPOINTS, login: 'https://localhost:4100/' }) });
    expect(config.microsoftEndpoints).toEqual(SIM_ENDPOINTS);
  });

  it('lists every problem of CORDON_MICROSOFT_ENDPOINTS, one line each', () => {
    expect(problemsOf({ CORDON_MICROSOFT_ENDPOINTS: 'not json' })).toEqual([expect.stringMatching(/CORDON_MICROSOFT_ENDPOINTS must be JSON/)]);
    expect(problemsOf({ CORDON_MICROSOFT_ENDPOINTS: '["https://x"]' })).toEqual([expect.stringMatching(/must be a JSON object/)]);
    const problems = problemsOf({
      CORDON_MICROSOFT_ENDPOINTS: JSON.stringify({ login: 'http://localhost:4100', graph: 'https://localhost:4101/v1.0', manage: 42, portal: 'https://x' }),
    });
    expect(problems).toEqual([
      'CORDON_MICROSOFT_ENDPOINTS has an unknown key "portal" (allowed: login, graph, manage, defender)',
      expect.stringMatching(/^CORDON_MICROSOFT_ENDPOINTS\.login must be an https base URL/),
      expect.stringMatching(/^CORDON_MICROSOFT_ENDPOINTS\.graph must be an https base URL/),
      expect.stringMatching(/^CORDON_MICROSOFT_ENDPOINTS\.manage must be an https base URL/),
      'CORDON_MICROSOFT_ENDPOINTS is missing the key "defender"',
    ]);
  });

  it('bounds the Microsoft call settings', () => {
    const problems = problemsOf({ CORDON_MICROSOFT_TIMEOUT_S: '0', CORDON_MICROSOFT_MAX_RETRIES: '11', CORDON_MICROSOFT_CONCURRENCY: 'many' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/CORDON_MICROSOFT_TIMEOUT_S must be an integer between 1 and 600/);
    expect(problems.join('\n')).toMatch(/CORDON_MICROSOFT_MAX_RETRIES must be an integer between 0 and 10/);
    expect(problems.join('\n')).toMatch(/CORDON_MICROSOFT_CONCURRENCY must be an integer between 1 and 64/);
  });

  it('defaults the collection settings', () => {
    expect(loadConfig({})).toMatchObject({
      eventsRetentionDays: 90,
      collection: {
        intervalMinutes: 5,
        overlapMinutes: 60,
        initialLookbackHours: 168,
        concurrency: 4,
        maxBlobAttempts: 3,
        workerConcurrency: 4,
        leaseSeconds: 60,
        throttleBackoffSeconds: 5,
        throttleMaxWaitSeconds: 300,
        managePublisherId: undefined,
      },
    });
  });

  it('bounds the collection settings, one problem per line', () => {
    const problems = problemsOf({
      CORDON_EVENTS_RETENTION_DAYS: '0',
      CORDON_COLLECTION_INTERVAL_MINUTES: 'often',
      CORDON_COLLECTION_INITIAL_LOOKBACK_HOURS: '200',
      CORDON_COLLECTION_CONCURRENCY: '33',
      CORDON_COLLECTION_MAX_BLOB_ATTEMPTS: '0',
      CORDON_COLLECTION_OVERLAP_MINUTES: '-1',
      CORDON_COLLECTION_THROTTLE_BACKOFF_S: '0',
      CORDON_MANAGE_PUBLISHER_ID: 'contoso',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^CORDON_EVENTS_RETENTION_DAYS must be an integer between 1 and 3650/),
      expect.stringMatching(/^CORDON_COLLECTION_INTERVAL_MINUTES must be an integer between 1 and 1440/),
      expect.stringMatching(/^CORDON_COLLECTION_OVERLAP_MINUTES must be an integer between 0 and 1440/),
      expect.stringMatching(/^CORDON_COLLECTION_INITIAL_LOOKBACK_HOURS must be an integer between 1 and 168/),
      expect.stringMatching(/^CORDON_COLLECTION_CONCURRENCY must be an integer between 1 and 32/),
      expect.stringMatching(/^CORDON_COLLECTION_MAX_BLOB_ATTEMPTS must be an integer between 1 and 20/),
      expect.stringMatching(/^CORDON_COLLECTION_THROTTLE_BACKOFF_S must be an integer between 1 and 600/),
      expect.stringMatching(/^CORDON_MANAGE_PUBLISHER_ID must be a tenant GUID/),
    ]);
  });
});
