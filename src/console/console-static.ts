import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sendProblem } from '../common/problem.filter';
import { problems } from '../common/problem';

/** The console's Content-Security-Policy: our own files only, no inline script or style, not framed. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Headers on every /console response. */
export const CONSOLE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-cache',
};

/** The project root: the nearest folder above this file with a package.json (src/ in tests, dist/src/ when built). */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
  return dir;
}

/** Where the build (scripts/build-console.js) writes the console's bundle. */
export function consoleDirectory(): string {
  return join(projectRoot(__dirname), 'dist', 'console');
}

/**
 * Serves the console's static files at /console/ (the page, its script and its style sheet) with the
 * strict CSP. The console is a client of the /v1 API like any other: it holds no credential of its own
 * and the server enforces every role. When the bundle was not built, /console answers a 404 problem
 * that says how to build it.
 */
export function registerConsole(fastify: FastifyInstance, directory = consoleDirectory()): void {
  fastify.get('/console', (request, reply) => {
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) reply.header(name, value);
    void reply.redirect('/console/', 302);
  });
  if (!existsSync(join(directory, 'index.html'))) {
    fastify.get('/console/*', (request, reply) => {
      for (const [name, value] of Object.entries(CONSOLE_HEADERS)) reply.header(name, value);
      sendProblem(reply, request, problems.notFound('The console is not built: run `npm run build` (it writes dist/console).'));
    });
    return;
  }
  void fastify.register(fastifyStatic, {
    root: directory,
    prefix: '/console/',
    decorateReply: false,
    index: ['index.html'],
    wildcard: true,
    dotfiles: 'deny',
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
    },
  });
}
