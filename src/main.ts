import 'reflect-metadata';
import { AppModule } from './app.module';
import { BootstrapAdminService } from './auth/bootstrap-admin.service';
import { createLogger } from './common/logger';
import { loadConfigOrExit } from './config/load-or-exit';
import { createHttpApp, startMetricsServer } from './http';
import { onTerminationSignal, shutdownGracefully } from './lifecycle';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const app = await createHttpApp({ config, module: AppModule.forRoot(config), logger });
  await app.get(BootstrapAdminService).ensureAdminKey();
  const metricsServer = await startMetricsServer(app, config);
  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { port, database: config.databaseUrl ? 'postgresql' : 'embedded', workers: config.workers },
    `Cordon listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port} (docs at /docs)`,
  );
  onTerminationSignal(async (signal) => {
    logger.info(`${signal} received; shutting down`);
    metricsServer?.close();
    process.exit(await shutdownGracefully(app, config.shutdownTimeoutSeconds, logger));
  });
}

main().catch((error) => {
  process.stderr.write(`Cordon failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
