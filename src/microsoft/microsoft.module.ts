import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { Clouds } from './clouds';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { GraphClientFactory } from './graph-client.factory';
import { HttpsTransport } from './https-transport';
import { MicrosoftHttp } from './microsoft-http';
import { TokenProvider } from './token-provider';

/**
 * Shared Microsoft connectivity: the cloud endpoint table, tokens, the Graph client factory and the
 * HTTP client for the Management Activity and Defender APIs. No business logic, no tables, no routes.
 */

/** Owns the keep-alive sockets so they close with the application. */
@Injectable()
class TransportLifecycle implements OnApplicationShutdown {
  constructor(@Inject(HttpsTransport) private readonly transport: HttpsTransport) {}

  onApplicationShutdown(): void {
    this.transport.close();
  }
}

@Module({
  providers: [
    { provide: Clouds, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new Clouds(config.microsoftEndpoints) },
    { provide: HttpsTransport, inject: [APP_CONFIG], useFactory: (config: AppConfig) => HttpsTransport.fromCaFile(config.microsoftCaFile) },
    { provide: ConcurrencyLimiter, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new ConcurrencyLimiter(config.microsoftConcurrency) },
    {
      provide: TokenProvider,
      inject: [APP_CONFIG, Clouds, HttpsTransport],
      useFactory: (config: AppConfig, clouds: Clouds, transport: HttpsTransport) =>
        new TokenProvider({ clouds, transport, timeoutMs: config.microsoftTimeoutSeconds * 1000 }),
    },
    {
      provide: MicrosoftHttp,
      inject: [APP_CONFIG, Clouds, TokenProvider, HttpsTransport, ConcurrencyLimiter],
      useFactory: (config: AppConfig, clouds: Clouds, tokens: TokenProvider, transport: HttpsTransport, limiter: ConcurrencyLimiter) =>
        new MicrosoftHttp({ clouds, tokens, transport, limiter, timeoutMs: config.microsoftTimeoutSeconds * 1000, maxRetries: config.microsoftMaxRetries }),
    },
    {
      provide: GraphClientFactory,
      inject: [APP_CONFIG, Clouds, TokenProvider, HttpsTransport, ConcurrencyLimiter],
      useFactory: (config: AppConfig, clouds: Clouds, tokens: TokenProvider, transport: HttpsTransport, limiter: ConcurrencyLimiter) =>
        new GraphClientFactory({
          clouds,
          tokens,
          transport,
          limiter,
          timeoutMs: config.microsoftTimeoutSeconds * 1000,
          maxRetries: config.microsoftMaxRetries,
        }),
    },
    TransportLifecycle,
  ],
  exports: [Clouds, TokenProvider, MicrosoftHttp, GraphClientFactory, HttpsTransport],
})
export class MicrosoftModule {}
