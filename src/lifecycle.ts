import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';

/**
 * SIGTERM/SIGINT: stop accepting requests, let in-flight requests and running jobs finish, close the
 * database, exit 0 — or exit 1 when that takes longer than `CORDON_SHUTDOWN_TIMEOUT_S`.
 */
export async function shutdownGracefully(app: INestApplication | INestApplicationContext, timeoutSeconds: number, logger: Logger): Promise<number> {
  const timer = setTimeout(() => {
    logger.error(`shutdown did not finish within ${timeoutSeconds}s; exiting`);
    process.exit(1);
  }, timeoutSeconds * 1000);
  timer.unref();
  try {
    if ('getHttpAdapter' in app) {
      // HTTP first: requests still running may enqueue jobs or write to the database.
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().close();
    }
    await app.close();
    logger.info('shutdown complete');
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    return 1;
  } finally {
    clearTimeout(timer);
  }
}

export function onTerminationSignal(handler: (signal: NodeJS.Signals) => void): void {
  let called = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (called) return;
      called = true;
      handler(signal);
    });
  }
}
