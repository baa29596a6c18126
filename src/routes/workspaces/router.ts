import { z } from 'zod';
import { linkNextPage, pageQuery, pageRequest } from '../../http/pagination.ts';
import type { Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import type { WorkspaceMemberService } from '../../services/workspace-member.service.ts';
import type { WorkspaceService } from '../../services/workspace.service.ts';
import {
  presentWorkspace,
  presentWorkspaceMember,
  presentWorkspaceMemberWithUser,
  presentWorkspacePermissions,
} from './presenter.ts';
import {
  addWorkspaceMemberBody,
  changeWorkspaceMemberBody,
  createWorkspaceBody,
  organizationWorkspacesParams,
  updateWorkspaceBody,
  workspaceMemberListItem,
  workspaceMemberParams,
  workspaceMemberResponse,
  workspaceParams,
  workspacePermissionsResponse,
  workspaceResponse,
} from './schema.ts';

const BASE = '/api/v1/workspaces';
const tags = ['workspaces'];

export function workspaceRoutes(api: Api, workspaces: WorkspaceService, members: WorkspaceMemberService): void {
  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/orgs/{org_id}/workspaces',
    summary: 'Create a workspace; the caller becomes its admin (org:create_workspace)',
    tags,
    params: organizationWorkspacesParams,
    body: createWorkspaceBody,
    response: { status: 200, description: 'The new workspace', zedToken: true, schema: workspaceResponse },
    errors: [402, 403],
    handler: async (ctx, { actor, params, body }) =>
      presentWorkspace(withZedToken(ctx, await workspaces.create(actor.userId, params.org_id, { name: body.name, description: body.description }))),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/workspaces',
    summary: "The organization's workspaces the caller can view (next page in the Link header)",
    tags,
    params: organizationWorkspacesParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of workspaces', schema: z.array(workspaceResponse) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await workspaces.list(actor.userId, params.org_id, pageRequest(ctx, query)), query.limit).map(presentWorkspace),
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{workspace_id}`,
    summary: 'A workspace (workspace:view)',
    tags,
    params: workspaceParams,
    response: { status: 200, description: 'The workspace', schema: workspaceResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) => presentWorkspace(await workspaces.get(actor.userId, params.workspace_id)),
  });

  api.addAuthenticated({
    method: 'patch',
    path: `${BASE}/{workspace_id}`,
    summary: 'Rename or describe a workspace (workspace:update)',
    tags,
    params: workspaceParams,
    body: updateWorkspaceBody,
    response: { status: 200, description: 'The workspace', zedToken: true, schema: workspaceResponse },
    errors: [403],
    handler: async (ctx, { actor, params, body }) =>
      presentWorkspace(withZedToken(ctx, await workspaces.update(actor.userId, params.workspace_id, { name: body.name, description: body.description }))),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{workspace_id}`,
    summary: 'Delete a workspace and everything under it (workspace:delete); never the last one',
    tags,
    params: workspaceParams,
    response: { status: 204, description: 'Deleted', zedToken: true },
    errors: [403, 409],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await workspaces.delete(actor.userId, params.workspace_id));
    },
  });

  api.addAuthenticated({
    method: 'post',
    path: `${BASE}/{workspace_id}/members`,
    summary: 'Give a member of the organization, or one of its teams, a workspace role (workspace:manage_members)',
    tags,
    params: workspaceParams,
    body: addWorkspaceMemberBody,
    response: { status: 200, description: 'The membership', zedToken: true, schema: workspaceMemberResponse },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentWorkspaceMember(
        withZedToken(
          ctx,
          await members.add(
            actor.userId,
            params.workspace_id,
            body.team_id ? { teamId: body.team_id } : { userId: body.user_id ?? '' },
            body.role,
            body.expires_at ?? null,
          ),
        ),
      ),
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{workspace_id}/members`,
    summary: 'The members, users and teams (workspace:view; next page in the Link header)',
    tags,
    params: workspaceParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of members', schema: z.array(workspaceMemberListItem) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await members.list(actor.userId, params.workspace_id, pageRequest(ctx, query)), query.limit).map(
        presentWorkspaceMemberWithUser,
      ),
  });

  api.addAuthenticated({
    method: 'patch',
    path: `${BASE}/{workspace_id}/members/{member_id}`,
    summary: "Change a user's or a team's workspace role, or when it ends (workspace:manage_members)",
    tags,
    params: workspaceMemberParams,
    body: changeWorkspaceMemberBody,
    response: { status: 200, description: 'The membership', zedToken: true, schema: workspaceMemberResponse },
    errors: [403, 404],
    handler: async (ctx, { actor, params, body }) =>
      presentWorkspaceMember(
        withZedToken(
          ctx,
          await members.change(actor.userId, params.workspace_id, params.member_id, { role: body.role, expiresAt: body.expires_at }),
        ),
      ),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{workspace_id}/members/{member_id}`,
    summary: 'Remove a user or a team (workspace:manage_members), or leave',
    tags,
    params: workspaceMemberParams,
    response: { status: 204, description: 'Removed', zedToken: true },
    errors: [403, 404],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await members.remove(actor.userId, params.workspace_id, params.member_id));
    },
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{workspace_id}/permissions`,
    summary: 'Every org:* and workspace:* permission the caller holds here (one bulk check)',
    tags,
    params: workspaceParams,
    response: { status: 200, description: 'The permissions', schema: workspacePermissionsResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) =>
      presentWorkspacePermissions(await workspaces.permissions(actor.userId, params.workspace_id)),
  });
}
