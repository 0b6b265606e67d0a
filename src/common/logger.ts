import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { serializeError } from './error-serializer';

/**
 * Anything that looks like a credential is replaced before a log line is written: headers that
 * carry credentials, and fields named secret/password/token/privateKey at any of the first levels.
 */
const SENSITIVE = [
  'secret',
  'clientSecret',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'privateKey',
  'privateKeyPem',
  'key',
  'apiKey',
  'authorization',
  'cookie',
];
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  ...SENSITIVE.flatMap((name) => [name, `*.${name}`, `*.*.${name}`, `*.*.*.${name}`]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cordon' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      // Our own serializer: it survives circular references and keeps the whole cause chain.
      serializers: { err: serializeError },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/**
 * Nest's logger calls go to pino. Nest passes the logger's context last; `logger.log({ fields }, 'text')`
 * becomes a pino line with those fields and that message.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, params: unknown[]) {
    const strings = params.filter((p): p is string => typeof p === 'string');
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const rest = strings.slice(0, -1);
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      this.logger[level]({ context, ...(message as object) }, rest.join(' ') || undefined);
    } else if (message instanceof Error) {
      this.logger[level]({ context, err: message }, rest.join(' ') || message.message);
    } else {
      // error(message, stack, context): a stack trace arrives as the string before the context
      const stack = level === 'error' && rest.length > 0 ? rest.join('\n') : undefined;
      this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
