import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { z } from 'zod';
import { NotFound } from '../../errors.ts';
import type { Api } from '../../http/route.ts';

// Served from the swagger-ui-dist package, so the docs page needs no CDN.
const SWAGGER_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>tenant-authz API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
`;

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

/** The OpenAPI document and its interactive page; the document is built on the first request. */
export function docsRoutes(api: Api): void {
  const assetsDirectory = getAbsoluteFSPath();
  const assets = new Map(
    Object.entries(SWAGGER_ASSETS).map(([name, type]) => [
      name,
      { type, body: readFileSync(path.join(assetsDirectory, name)) },
    ]),
  );
  assets.set('init.js', { type: 'application/javascript; charset=utf-8', body: Buffer.from(INIT_SCRIPT) });

  api.add({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tags: ['documentation'],
    response: { status: 200, description: 'The OpenAPI document' },
    handler: async (ctx) => {
      ctx.type = 'application/json';
      ctx.body = api.document();
    },
  });
  api.add({
    method: 'get',
    path: '/docs',
    summary: 'Interactive API documentation',
    tags: ['documentation'],
    response: { status: 200, description: 'An HTML page', contentType: 'text/html' },
    handler: async (ctx) => {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = DOCS_PAGE;
    },
  });
  api.add({
    method: 'get',
    path: '/docs/assets/{name}',
    summary: 'Static assets of the documentation page',
    tags: ['documentation'],
    params: z.object({ name: z.string() }),
    response: { status: 200, description: 'A stylesheet or script' },
    errors: [404],
    handler: async (ctx, { params }) => {
      const asset = assets.get(params.name);
      if (!asset) throw new NotFound(`No documentation asset named ${params.name}`);
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = asset.body;
    },
  });
}
