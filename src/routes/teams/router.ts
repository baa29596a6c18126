import { z } from 'zod';
import { linkNextPage, pageQuery, pageRequest } from '../../http/pagination.ts';
import type { Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import type { TeamMemberService } from '../../services/team-member.service.ts';
import type { TeamService } from '../../services/team.service.ts';
import { presentTeam, presentTeamMember } from './presenter.ts';
import {
  addTeamMemberBody,
  createTeamBody,
  organizationTeamsParams,
  teamMemberParams,
  teamMemberResponse,
  teamParams,
  teamResponse,
  updateTeamBody,
} from './schema.ts';

const BASE = '/api/v1/teams';
const tags = ['teams'];

export function teamRoutes(api: Api, teams: TeamService, members: TeamMemberService): void {
  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/orgs/{org_id}/teams',
    summary: 'Create a team (org:manage_teams); names are unique within the organization',
    tags,
    params: organizationTeamsParams,
    body: createTeamBody,
    response: { status: 201, description: 'The new team', zedToken: true, schema: teamResponse },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentTeam(withZedToken(ctx, await teams.create(actor.userId, params.org_id, { name: body.name, description: body.description }))),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/teams',
    summary: "The organization's teams (org:view; next page in the Link header)",
    tags,
    params: organizationTeamsParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of teams', schema: z.array(teamResponse) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await teams.list(actor.userId, params.org_id, pageRequest(ctx, query)), query.limit).map(presentTeam),
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{team_id}`,
    summary: 'A team (team:view)',
    tags,
    params: teamParams,
    response: { status: 200, description: 'The team', schema: teamResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) => presentTeam(await teams.get(actor.userId, params.team_id)),
  });

  api.addAuthenticated({
    method: 'patch',
    path: `${BASE}/{team_id}`,
    summary: 'Rename or describe a team (org:manage_teams)',
    tags,
    params: teamParams,
    body: updateTeamBody,
    response: { status: 200, description: 'The team', zedToken: true, schema: teamResponse },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentTeam(withZedToken(ctx, await teams.update(actor.userId, params.team_id, { name: body.name, description: body.description }))),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{team_id}`,
    summary: 'Delete a team with its memberships and workspace roles (org:manage_teams)',
    tags,
    params: teamParams,
    response: { status: 204, description: 'Deleted', zedToken: true },
    errors: [403],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await teams.delete(actor.userId, params.team_id));
    },
  });

  api.addAuthenticated({
    method: 'post',
    path: `${BASE}/{team_id}/members`,
    summary: 'Add a member of the organization, or another of its teams, to the team (team:manage_members); a cycle answers 422',
    tags,
    params: teamParams,
    body: addTeamMemberBody,
    response: { status: 201, description: 'The membership', zedToken: true, schema: teamMemberResponse },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentTeamMember(
        withZedToken(
          ctx,
          await members.add(actor.userId, params.team_id, body.team_id ? { teamId: body.team_id } : { userId: body.user_id ?? '' }),
        ),
      ),
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{team_id}/members`,
    summary: "The team's direct members, users and teams (team:view; next page in the Link header)",
    tags,
    params: teamParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of members', schema: z.array(teamMemberResponse) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await members.list(actor.userId, params.team_id, pageRequest(ctx, query)), query.limit).map(presentTeamMember),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{team_id}/members/{member_id}`,
    summary: 'Remove a user or a nested team (team:manage_members), or leave',
    tags,
    params: teamMemberParams,
    response: { status: 204, description: 'Removed', zedToken: true },
    errors: [403, 404],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await members.remove(actor.userId, params.team_id, params.member_id));
    },
  });
}
