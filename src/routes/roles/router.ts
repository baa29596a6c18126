import { z } from 'zod';
import { linkNextPage, pageQuery, pageRequest } from '../../http/pagination.ts';
import type { Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import type { CustomRoleAssignmentService, RolePlacement } from '../../services/custom-role-assignment.service.ts';
import type { CustomRoleService } from '../../services/custom-role.service.ts';
import { presentRole, presentRoleAssignment } from './presenter.ts';
import {
  catalogueResponse,
  createRoleBody,
  memberRoleParams,
  organizationRolesParams,
  roleAssignmentResponse,
  roleParams,
  roleResponse,
  teamRoleParams,
  updateRoleBody,
  workspaceMemberRoleParams,
} from './schema.ts';

const tags = ['custom roles'];
const NO_ESCALATION = 'never past what the caller holds (403)';

export function roleRoutes(api: Api, roles: CustomRoleService, assignments: CustomRoleAssignmentService): void {
  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/roles/catalogue',
    summary: 'The permissions a custom role may grant, each with a description (org:view); never the owner-only ones',
    tags,
    params: organizationRolesParams,
    response: { status: 200, description: 'The catalogue', schema: catalogueResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) => roles.catalogue(actor.userId, params.org_id),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/orgs/{org_id}/roles',
    summary: `Define a custom role from the catalogue (org:manage_roles; ${NO_ESCALATION}); 402 past the plan, 422 naming an unknown permission`,
    tags,
    params: organizationRolesParams,
    body: createRoleBody,
    response: { status: 201, description: 'The new role', zedToken: true, schema: roleResponse },
    errors: [402, 403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentRole(
        withZedToken(ctx, await roles.create(actor.userId, params.org_id, { name: body.name, description: body.description, permissions: body.permissions })),
      ),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/roles',
    summary: "The organization's custom roles (org:view; next page in the Link header)",
    tags,
    params: organizationRolesParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of roles', schema: z.array(roleResponse) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await roles.list(actor.userId, params.org_id, pageRequest(ctx, query)), query.limit).map(presentRole),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/roles/{role_id}',
    summary: 'A custom role (org:view)',
    tags,
    params: roleParams,
    response: { status: 200, description: 'The role', schema: roleResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) => presentRole(await roles.get(actor.userId, params.role_id)),
  });

  api.addAuthenticated({
    method: 'patch',
    path: '/api/v1/roles/{role_id}',
    summary: `Rename, describe or change the permissions of a custom role: every holder at once (org:manage_roles; ${NO_ESCALATION}, nor of a holder who holds more)`,
    tags,
    params: roleParams,
    body: updateRoleBody,
    response: { status: 200, description: 'The role', zedToken: true, schema: roleResponse },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentRole(
        withZedToken(ctx, await roles.update(actor.userId, params.role_id, { name: body.name, description: body.description, permissions: body.permissions })),
      ),
  });

  api.addAuthenticated({
    method: 'delete',
    path: '/api/v1/roles/{role_id}',
    summary: `Delete a custom role and every assignment of it, in force on return (org:manage_roles; ${NO_ESCALATION})`,
    tags,
    params: roleParams,
    response: { status: 204, description: 'Deleted', zedToken: true },
    errors: [403],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await roles.delete(actor.userId, params.role_id));
    },
  });

  const assignmentRoutes = <S extends z.ZodRawShape>(
    path: string,
    params: z.ZodObject<S, z.core.$strict>,
    where: string,
    placement: (params: z.output<z.ZodObject<S, z.core.$strict>>) => RolePlacement & { roleId: string },
  ) => {
    api.addAuthenticated({
      method: 'put',
      path,
      summary: `Give a custom role to ${where} (org:manage_roles; ${NO_ESCALATION}); 402 past the plan's roles per member`,
      tags,
      params,
      response: { status: 200, description: 'The assignment (the same one when already held)', zedToken: true, schema: roleAssignmentResponse },
      errors: [402, 403],
      handler: async (ctx, { actor, params }) =>
        presentRoleAssignment(withZedToken(ctx, await assignments.assign(actor.userId, placement(params).roleId, placement(params)))),
    });
    api.addAuthenticated({
      method: 'delete',
      path,
      summary: `Take a custom role from ${where}, in force on return (org:manage_roles; ${NO_ESCALATION}, nor from a holder who holds more)`,
      tags,
      params,
      response: { status: 204, description: 'Taken away', zedToken: true },
      errors: [403, 404],
      handler: async (ctx, { actor, params }) => {
        withZedToken(ctx, await assignments.unassign(actor.userId, placement(params).roleId, placement(params)));
      },
    });
  };

  assignmentRoutes('/api/v1/orgs/{org_id}/members/{user_id}/roles/{role_id}', memberRoleParams, 'a member, across the organization', (params) => ({
    roleId: params.role_id,
    holder: { userId: params.user_id },
    workspaceId: null,
    organizationId: params.org_id,
  }));
  assignmentRoutes('/api/v1/teams/{team_id}/roles/{role_id}', teamRoleParams, "a team: every member, nested teams' included", (params) => ({
    roleId: params.role_id,
    holder: { teamId: params.team_id },
    workspaceId: null,
  }));
  assignmentRoutes(
    '/api/v1/workspaces/{workspace_id}/members/{user_id}/roles/{role_id}',
    workspaceMemberRoleParams,
    'a member in one workspace only (its workspace permissions)',
    (params) => ({ roleId: params.role_id, holder: { userId: params.user_id }, workspaceId: params.workspace_id }),
  );
}
