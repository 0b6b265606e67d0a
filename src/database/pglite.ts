import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { PGliteDriver, getPGliteInstance } from 'typeorm-pglite';
// Closing through typeorm-pglite resets its process-wide instance, so a later start reopens the directory.
import { PGliteInstance } from 'typeorm-pglite/dist/pglite-instance';
import { Mutex } from './mutex';

/**
 * PGlite is one connection. typeorm-pglite's pool hands that connection to every caller at once, so
 * a `BEGIN` from one request would swallow another request's queries into its transaction. This pool
 * gives each TypeORM connection exclusive use from `connect()` until it is released, and pg-boss
 * goes through the same lock (see `pgliteExecuteSql`): concurrent work is serialized, never mixed.
 */
const lock = new Mutex();

/**
 * Set once the pool is ended (the process is shutting down), cleared when a driver is made again. Work
 * still in flight after that (a scheduled run finishing) gets an error instead of typeorm-pglite opening
 * the directory anew, which may already be gone.
 */
let closed = false;

function instance(): Promise<PGlite> {
  if (closed) return Promise.reject(new Error('the embedded database is closed (Cordon is shutting down)'));
  return getPGliteInstance();
}

type Callback = (err: Error | null, result?: unknown) => void;

async function run(db: PGlite, text: string, values?: unknown[]) {
  // `exec` runs parameterless multi-statement SQL (pg-boss and migrations send such scripts);
  // `query` is the extended protocol for a single statement with parameters.
  if (values && values.length > 0) return db.query(text, values);
  const results = await db.exec(text);
  return results[results.length - 1] ?? { rows: [], fields: [], affectedRows: 0 };
}

function toPgResult(result: { rows: unknown[]; fields?: Array<{ name: string; dataTypeID: number }>; affectedRows?: number }, text: string) {
  // TypeORM's postgres query runner reads `command` and `rowCount` like node-postgres returns them.
  const command = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '';
  return { rows: result.rows, fields: result.fields ?? [], rowCount: result.affectedRows ?? result.rows.length, command };
}

class SerializedClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  query(text: string | { text: string; values?: unknown[] }, values?: unknown[] | Callback, callback?: Callback) {
    const sql = typeof text === 'string' ? text : text.text;
    let params = typeof text === 'string' ? values : text.values;
    let cb = callback;
    if (typeof params === 'function') {
      cb = params as Callback;
      params = undefined;
    }
    const promise = run(this.db, sql, params as unknown[] | undefined).then((r) => toPgResult(r, sql));
    if (cb)
      promise.then(
        (r) => cb!(null, r),
        (e: Error) => cb!(e),
      );
    return promise;
  }
}

/**
 * A query issued outside the open transaction while that transaction waits for it can never get the
 * connection: on PostgreSQL it would use a second connection, on PGlite it would hang. Waiting this
 * long for the connection turns such a bug into an error that names it.
 */
const LOCK_WAIT_MS = 60_000;

function acquireOrFail(): Promise<() => void> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(
        new Error(
          `waited ${LOCK_WAIT_MS / 1000}s for the embedded database connection; is a query running outside its transaction while the transaction waits for it?`,
        ),
      );
    }, LOCK_WAIT_MS);
    timer.unref();
    void lock.acquire().then((release) => {
      clearTimeout(timer);
      if (timedOut) release();
      else resolve(release);
    });
  });
}

class SerializedPool extends EventEmitter {
  connect(callback: (err: Error | null, client?: SerializedClient, done?: () => void) => void) {
    void (async () => {
      let release: () => void;
      try {
        release = await acquireOrFail();
      } catch (error) {
        callback(error as Error);
        return;
      }
      try {
        const db = await instance();
        let released = false;
        callback(null, new SerializedClient(db), () => {
          if (!released) {
            released = true;
            release();
          }
        });
      } catch (error) {
        release();
        callback(error as Error);
      }
    })();
  }

  query(text: string, values?: unknown[] | Callback, callback?: Callback) {
    const promise = lock.run(async () => new SerializedClient(await instance()).query(text, values as unknown[]));
    const cb = typeof values === 'function' ? (values as Callback) : callback;
    if (cb)
      promise.then(
        (r) => cb(null, r),
        (e: Error) => cb(e),
      );
    return promise;
  }

  end(callback?: (err: Error | null) => void) {
    closed = true;
    void (async () => {
      try {
        await PGliteInstance.close();
        callback?.(null);
      } catch (error) {
        callback?.(error as Error);
      }
    })();
  }
}

/**
 * PostgreSQL settings for the embedded database. PGlite's default `shared_buffers` (128 MB) is WebAssembly
 * memory it never gives back; one process with one connection and a single operator's data does not need it
 * (bench/RESULTS.md "Idle memory": the process's idle RSS falls by about 150 MB).
 */
const EMBEDDED_SETTINGS = ['shared_buffers = 32MB'];

/** The node-postgres-like module TypeORM's postgres driver loads, backed by PGlite in `dataDir`. */
export function pgliteDriver(dataDir: string | 'memory://') {
  closed = false;
  if (dataDir !== 'memory://') mkdirSync(dataDir, { recursive: true });
  const base = new PGliteDriver({ dataDir, postgresqlconf: EMBEDDED_SETTINGS }).driver as { Pool: unknown };
  return Object.assign(base, { Pool: SerializedPool });
}

/** pg-boss's `executeSql` on the shared PGlite instance, under the same lock as TypeORM. */
export async function pgliteExecuteSql(text: string, values?: unknown[]) {
  return lock.run(async () => run(await instance(), text, values));
}

/** Runs `work` on PGlite while holding the lock (used by the migrator for its whole run). */
export async function withPgliteLock<T>(work: (db: PGlite) => Promise<T>): Promise<T> {
  return lock.run(async () => work(await instance()));
}
