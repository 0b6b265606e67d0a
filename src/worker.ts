import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { createLogger, PinoNestLogger } from './common/logger';
import { loadConfigOrExit } from './config/load-or-exit';
import { onTerminationSignal, shutdownGracefully } from './lifecycle';

/** Workers only, no HTTP: `npm run worker`. Scale job processing by running more of these. */
async function main(): Promise<void> {
  const config = { ...loadConfigOrExit(), workers: true };
  const logger = createLogger(config.logLevel);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: new PinoNestLogger(logger) });
  await app.init();
  logger.info('Cordon worker running');
  onTerminationSignal(async (signal) => {
    logger.info(`${signal} received; shutting down`);
    process.exit(await shutdownGracefully(app, config.shutdownTimeoutSeconds, logger));
  });
}

main().catch((error) => {
  process.stderr.write(`Cordon worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
