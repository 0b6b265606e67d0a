import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Cordon API')
    .setDescription(
      'Incident response and telemetry collection for Microsoft 365 tenants. Errors are RFC 9457 problem details ' +
        '(application/problem+json); paging is keyset (`limit`, `cursor`); every response carries `X-Request-Id`.',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (`cdn_...`) or an Entra ID access token.' }, 'bearer')
    .addTag('api-keys', 'API keys for playbooks and scripts (admin).')
    .addTag('actions', 'Response actions: contain users and devices; approvals; the action record.')
    .addTag('persistence', 'What an attacker left in an account (inbox rules, consents, sign-in methods), read live from Graph; removing it is an action.')
    .addTag('audit-log', 'The tamper-evident action log (auditor, admin).')
    .addTag('tenants', 'Microsoft 365 tenants, their capabilities and policies (admin writes; analyst, responder, admin read).')
    .addTag('telemetry', 'Collected audit telemetry (events) and per-tenant collection status and control (analyst, responder, admin read).')
    .addTag('webhooks', 'The per-tenant outbound webhook for new and changed alerts and incidents, and its delivery log.')
    .addTag('operations', 'Health and metrics (no authentication).')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    autoTagControllers: false,
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  documentBodyProblems(document);
  return document;
}

/**
 * Every /v1 route that can be sent a body (any method but GET) answers 413 to one over the limit and
 * 415 to one that is not JSON, before its own code runs (src/http.ts); each operation says so.
 */
function documentBodyProblems(document: OpenAPIObject): void {
  for (const methods of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(methods) as Array<[string, { responses?: Record<string, { description?: string; content?: unknown }> }]>) {
      const problem = operation.responses?.['400']?.content;
      if (method === 'get' || !problem) continue;
      operation.responses!['413'] ??= { description: 'The body exceeds 1 MiB (`payload-too-large`).', content: problem };
      operation.responses!['415'] ??= { description: 'The body is not `application/json` (`unsupported-media-type`).', content: problem };
    }
  }
}

/** Swagger UI at /docs and the document at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
