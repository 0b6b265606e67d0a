import { Client } from 'pg';

/**
 * Server-side prepared statements for the statements Cordon runs over and over (each action's
 * write-ahead records, the audit sealer, API-key and tenant lookups).
 *
 * Unnamed, every statement is sent whole and parsed, analysed and planned by PostgreSQL each time:
 * the action records are CTEs of a few kilobytes, and measured at 50 concurrent isolates that was about
 * a third of PostgreSQL's CPU (bench/RESULTS.md, actions, 2026-11-27 session 4). Named,
 * a connection parses a statement once and then sends only its parameters.
 *
 * Which statements: like pgJDBC's `prepareThreshold`, a parameterized statement is named from its
 * `PREPARE_AFTER`-th execution in this process, so one-off statements (migrations, a batch insert of
 * an unusual size) never are. Bounded: at most `MAX_PREPARED` distinct texts are ever named (each
 * costs memory in every pooled connection that runs it, until the connection closes), texts longer
 * than `MAX_TEXT_LENGTH` are not (multi-row inserts, whose plans are large and rarely reused), and
 * the count of texts seen is reset when it grows past `MAX_TRACKED`.
 *
 * Off with `CORDON_DATABASE_PREPARED_STATEMENTS=false`, for connection poolers that hand one server
 * connection to several clients in turn (PgBouncer's transaction mode without `max_prepared_statements`,
 * which came in 1.21).
 */

export const PREPARE_AFTER = 3;
export const MAX_PREPARED = 500;
export const MAX_TEXT_LENGTH = 32 * 1024;
const MAX_TRACKED = 5000;

/** Decides which statement texts get a name, and which name: one per text, for the whole process. */
export class StatementNames {
  private readonly seen = new Map<string, number>();
  private readonly names = new Map<string, string>();

  constructor(
    private readonly prepareAfter = PREPARE_AFTER,
    private readonly maxPrepared = MAX_PREPARED,
  ) {}

  /** The statement's name, or undefined while it should still be sent unnamed. */
  nameFor(text: string): string | undefined {
    const named = this.names.get(text);
    if (named !== undefined) return named;
    if (text.length > MAX_TEXT_LENGTH || this.names.size >= this.maxPrepared) return undefined;
    const count = (this.seen.get(text) ?? 0) + 1;
    if (count < this.prepareAfter) {
      if (this.seen.size >= MAX_TRACKED) this.seen.clear();
      this.seen.set(text, count);
      return undefined;
    }
    this.seen.delete(text);
    const name = `cordon_${this.names.size + 1}`;
    this.names.set(text, name);
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}

type QueryArgs = [config: unknown, values?: unknown, callback?: unknown];

/**
 * A node-postgres Client class (for the pool's `Client` option) that names statements as
 * `names` decides. Only `query(text, values[, callback])` with parameters is touched: query
 * objects, parameterless scripts and COPY streams pass through as they are.
 */
export function preparingClient(names: StatementNames): typeof Client {
  class PreparingClient extends Client {}
  const query = Client.prototype.query as (...args: QueryArgs) => unknown;
  Object.defineProperty(PreparingClient.prototype, 'query', {
    value: function (this: Client, ...[config, values, callback]: QueryArgs) {
      if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
        const name = names.nameFor(config);
        if (name !== undefined) return query.call(this, { name, text: config, values }, callback);
      }
      return query.call(this, config, values, callback);
    },
    writable: true,
    configurable: true,
  });
  return PreparingClient;
}
