import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/config';
import { pgliteDriver } from './pglite';
import { StatementNames, preparingClient } from './prepared-statements';

export type DatabaseKind = 'postgres' | 'pglite';

export function databaseKind(config: Pick<AppConfig, 'databaseUrl'>): DatabaseKind {
  return config.databaseUrl ? 'postgres' : 'pglite';
}

/**
 * TypeORM options for either database. The schema comes only from `migrations/` (synchronize is
 * off everywhere); entities are registered by the feature modules through `autoLoadEntities`.
 */
type DatabaseSettings = Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'databasePoolMax'> & Partial<Pick<AppConfig, 'databasePreparedStatements'>>;

export function dataSourceOptions(config: DatabaseSettings): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    // ids default to gen_random_uuid() (built in since PostgreSQL 13, and in PGlite)
    uuidExtension: 'pgcrypto' as const,
    logging: false,
  };
  if (config.databaseUrl) {
    const prepared = config.databasePreparedStatements === false ? {} : { Client: preparingClient(new StatementNames()) };
    return { ...common, url: config.databaseUrl, extra: { max: config.databasePoolMax, application_name: 'cordon', ...prepared } };
  }
  return { ...common, driver: pgliteDriver(join(config.dataDir, 'pglite')) };
}

export function createDataSource(config: DatabaseSettings, entities: DataSourceOptions['entities'] = []) {
  return new DataSource({ ...dataSourceOptions(config), entities } as DataSourceOptions);
}
