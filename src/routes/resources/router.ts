import { answerWith, type Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import { serviceAccountOf } from '../../services/authorization.service.ts';
import type { ResourceService } from '../../services/resource.service.ts';
import { presentResource } from './presenter.ts';
import { deleteResourceQuery, registerResourceBody, resourceParams, resourceResponse } from './schema.ts';

const PATH = '/api/v1/authz/resources/{type}/{id}';
const tags = ['resources'];

/** Resources other services own, registered by their service accounts (users' tokens get 403). */
export function resourceRoutes(api: Api, resources: ResourceService): void {
  api.addForCallers({
    method: 'put',
    path: PATH,
    summary: 'Register a resource under a workspace, or move it there (exactly one parent)',
    tags,
    params: resourceParams,
    body: registerResourceBody,
    response: {
      status: 200,
      description: 'Already registered, or moved; a ZedToken header names the write',
      schema: resourceResponse,
      alternative: { status: 201, description: 'Registered' },
      zedToken: true,
    },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) => {
      const account = serviceAccountOf(actor, 'register resources');
      const registered = withZedToken(
        ctx,
        await resources.register(account, params, { parentWorkspaceId: body.parent.id, onBehalfOf: body.on_behalf_of?.id }),
      );
      if (registered.created) answerWith(ctx, 201);
      return presentResource(registered.resource);
    },
  });

  api.addForCallers({
    method: 'get',
    path: PATH,
    summary: 'A registered resource: its parent, who registered it, and when',
    tags,
    params: resourceParams,
    response: { status: 200, description: 'The resource', schema: resourceResponse },
    errors: [403, 404],
    handler: async (_ctx, { actor, params }) =>
      presentResource(await resources.get(serviceAccountOf(actor, 'read resources'), params)),
  });

  api.addForCallers({
    method: 'delete',
    path: PATH,
    summary: 'Unregister a resource: its record and every tuple of it',
    tags,
    params: resourceParams,
    query: deleteResourceQuery,
    response: { status: 204, description: 'Removed; a ZedToken header names the write', zedToken: true },
    errors: [403, 404],
    handler: async (ctx, { actor, params, query }) => {
      withZedToken(ctx, await resources.delete(serviceAccountOf(actor, 'delete resources'), params, query.on_behalf_of));
    },
  });
}
