import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { projectRoot } from './common/project-root';
import { loadConfig } from './config/config';
import { buildOpenApiDocument } from './openapi/openapi';

/**
 * `npm run openapi`: writes openapi/openapi.json from the code without starting a server or opening
 * a database (Nest's preview mode builds the module graph without instantiating providers).
 * CI regenerates it and fails when the committed file differs.
 */
export async function generateOpenApi(): Promise<string> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(loadConfig({})), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  const document = buildOpenApiDocument(app);
  return JSON.stringify(document, null, 2) + '\n';
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  generateOpenApi().then(
    (text) => {
      const file = join(projectRoot(), 'openapi', 'openapi.json');
      if (check) {
        const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
        if (committed !== text) {
          process.stderr.write('openapi/openapi.json is stale: run `npm run openapi` and commit the result.\n');
          process.exit(1);
        }
        process.stdout.write('openapi/openapi.json is up to date\n');
        process.exit(0);
      }
      mkdirSync(join(projectRoot(), 'openapi'), { recursive: true });
      writeFileSync(file, text);
      process.stdout.write(`wrote ${file}\n`);
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`openapi generation failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
