import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { BODY_LIMIT_BYTES } from './common/http-limits';
import { createLogger, PinoNestLogger } from './common/logger';
import { indexRoute } from './common/route-index';
import { sendProblem } from './common/problem.filter';
import { problems } from './common/problem';
import { SafeInputInterceptor } from './common/safe-input';
import { createValidationPipe } from './common/validation';
import type { AppConfig } from './config/config';
import { MetricsService } from './health/metrics.service';
import { setupOpenApi } from './openapi/openapi';
import { registerConsole } from './console/console-static';

/** Longest path parameter the router accepts (the longest any DTO allows is a 320-character UPN). */
const MAX_PATH_PARAM_LENGTH = 1024;

/** A caller's X-Request-Id is echoed when it is printable and short; otherwise we mint one. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export interface CreateHttpAppOptions {
  config: AppConfig;
  /** The root module (AppModule.forRoot(config) in production; tests may wrap it). */
  module: Type<unknown> | ReturnType<typeof import('./app.module').AppModule.forRoot>;
  logger?: Logger;
}

/**
 * Builds the HTTP application exactly as production runs it: Fastify with a 1 MiB body limit,
 * request ids, pino logs, problem+json errors, unsafe input refused, validation, metrics, OpenAPI at /docs
 * and the console at /console (src/console).
 */
export async function createHttpApp({ config, module, logger = createLogger(config.logLevel) }: CreateHttpAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    loggerInstance: logger,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    clientErrorHandler: answerClientError,
    // A path that is not valid percent-encoded UTF-8 (e.g. an encoded lone surrogate), or a segment too
    // long for any route (a path parameter may be a UPN, up to 113 characters, or a device's DNS name),
    // never reaches a route: answered here, as every other error is.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      reply.header('X-Request-Id', request.id);
      sendProblem(reply, request, error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? problems.uriTooLong() : problems.malformedUrl());
    },
  });
  const fastify = adapter.getInstance();
  // JSON only: Fastify's own JSON parser (Nest's is switched off below); anything else is 415.
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onRoute', (route) => indexRoute(route.method, route.url));
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });

  const app = await NestFactory.create<NestFastifyApplication>(module as Type<unknown>, adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
    abortOnError: false,
    bodyParser: false,
  });
  app.useGlobalInterceptors(new SafeInputInterceptor());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks([]); // signals are handled by main.ts (graceful shutdown)

  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  setupOpenApi(app);
  registerConsole(fastify);
  return app;
}

/**
 * A request Node cannot parse (its head over the 16 KiB limit, a timeout, bad framing) never reaches a
 * route; it is answered as a problem too, with a request id of its own, and the connection closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, slug, title] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request-header-too-large', 'Request header fields too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request-timeout', 'Request timeout']
        : [400, 'malformed-request', 'Malformed request'];
  const requestId = randomUUID();
  const body = JSON.stringify({ type: `/problems/${slug}`, title, status, detail: 'The request could not be read as HTTP/1.1 within the limits.', requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** With `CORDON_METRICS_PORT`, /metrics is served on its own port (for a scraper on a private network). */
export async function startMetricsServer(app: INestApplication, config: AppConfig): Promise<Server | undefined> {
  if (config.metricsPort === undefined) return undefined;
  const metrics = app.get(MetricsService);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(config.metricsPort, config.host, resolve));
  return server;
}
