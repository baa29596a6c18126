import { z } from 'zod';
import { linkNextPage, pageQuery, pageRequest } from '../../http/pagination.ts';
import { answerWith, type Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import { serviceAccountOf } from '../../services/authorization.service.ts';
import type { ResourceGrantService } from '../../services/resource-grant.service.ts';
import type { ResourceService } from '../../services/resource.service.ts';
import { presentGrant, presentResource } from './presenter.ts';
import {
  deleteResourceQuery,
  grantBody,
  grantResponse,
  registerResourceBody,
  resourceParams,
  resourceResponse,
  revokeBody,
} from './schema.ts';

const PATH = '/api/v1/authz/resources/{type}/{id}';
const tags = ['resources'];

/** Resources other services own, registered by their service accounts (users' tokens get 403). */
export function resourceRoutes(api: Api, resources: ResourceService, grants: ResourceGrantService): void {
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

  api.addForCallers({
    method: 'post',
    path: `${PATH}/grants`,
    summary: 'Share the resource: grant a user, a team (its members) or every user (viewer only) a role, optionally until expires_at',
    tags,
    params: resourceParams,
    body: grantBody,
    response: {
      status: 201,
      description: 'Granted; a ZedToken header names the write',
      schema: grantResponse,
      alternative: { status: 200, description: 'Already granted: its expiry replaced' },
      zedToken: true,
    },
    errors: [403, 404],
    handler: async (ctx, { actor, params, body }) => {
      const account = serviceAccountOf(actor, 'share resources');
      const granted = withZedToken(
        ctx,
        await grants.grant(account, params, {
          subject: body.subject,
          role: body.role,
          expiresAt: body.expires_at,
          onBehalfOf: body.on_behalf_of?.id,
        }),
      );
      if (!granted.created) answerWith(ctx, 200);
      return presentGrant(granted.grant);
    },
  });

  api.addForCallers({
    method: 'get',
    path: `${PATH}/grants`,
    summary: 'The grants in force on the resource, oldest first (next page in the Link header); expired ones are gone',
    tags,
    params: resourceParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of grants', schema: z.array(grantResponse) },
    errors: [403, 404],
    handler: async (ctx, { actor, params, query }) => {
      const page = await grants.list(serviceAccountOf(actor, 'read grants'), params, pageRequest(ctx, query));
      return linkNextPage(ctx, page, query.limit).map(presentGrant);
    },
  });

  api.addForCallers({
    method: 'delete',
    path: `${PATH}/grants`,
    summary: 'Revoke one grant, named by its subject and role',
    tags,
    params: resourceParams,
    body: revokeBody,
    response: { status: 204, description: 'Revoked; a ZedToken header names the write', zedToken: true },
    errors: [403, 404],
    handler: async (ctx, { actor, params, body }) => {
      const account = serviceAccountOf(actor, 'revoke grants');
      withZedToken(ctx, await grants.revoke(account, params, { subject: body.subject, role: body.role, onBehalfOf: body.on_behalf_of?.id }));
    },
  });
}
