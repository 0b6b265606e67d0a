import type { LoggerService } from '@nestjs/common';
import { serializeError } from '../../src/common/error-serializer';

/** Errors as the real logger writes them (cause chain, circular references survived). */
const record = (args: unknown[]) => JSON.stringify(args, (_key, value: unknown) => (value instanceof Error ? serializeError(value) : value));

/** A Nest logger that keeps every call as a JSON line, so specs can search the logs for secrets. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (...args: unknown[]) => this.lines.push(record(args));
  warn = (...args: unknown[]) => this.lines.push(record(args));
  error = (...args: unknown[]) => this.lines.push(record(args));
  debug = (...args: unknown[]) => this.lines.push(record(args));
}
