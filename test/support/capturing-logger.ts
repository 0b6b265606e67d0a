import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every call as a JSON line, so specs can search the logs for secrets. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  warn = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  error = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
  debug = (...args: unknown[]) => this.lines.push(JSON.stringify(args));
}
