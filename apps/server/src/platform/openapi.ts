import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import { docsPrefix, sessionCookie, type App } from './http.ts';

/**
 * OpenAPI 3.1 generated from the zod contracts every route already declares: `/docs/openapi.json` (also
 * `/docs/json`, `/docs/yaml`),
 * with a viewer at `/docs`. Register before any route, so every route is collected.
 */
export async function registerApiDocs(app: App, config: Config): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Wangge 网格 API',
        description:
          'Grid-based community governance. Errors are `{ code, message, fields? }`; records outside the caller’s place answer 404.',
        version: config.version,
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: sessionCookie },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: docsPrefix });
  // The conventional name as well (the viewer serves the same document at /docs/json).
  app.get(`${docsPrefix}/openapi.json`, { schema: { hide: true } }, () => app.swagger());
}
