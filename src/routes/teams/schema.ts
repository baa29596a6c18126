import { z } from 'zod';
import { descriptionText, displayName, uuid } from '../../http/fields.ts';

const description = descriptionText.nullable();

export const organizationTeamsParams = z.strictObject({ org_id: uuid });
export const teamParams = z.strictObject({ team_id: uuid });

export const createTeamBody = z.strictObject({ name: displayName, description: description.optional() }).meta({ id: 'CreateTeamRequest' });
export const updateTeamBody = z
  .strictObject({ name: displayName.optional(), description: description.optional() })
  .meta({ id: 'UpdateTeamRequest' });

export const teamResponse = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'TeamResponse' });

export const teamMemberParams = z.strictObject({ team_id: uuid, member_id: uuid });

export const addTeamMemberBody = z
  .strictObject({ user_id: uuid.optional(), team_id: uuid.optional() })
  .refine((body) => (body.user_id === undefined) !== (body.team_id === undefined), { error: 'must have exactly one of user_id and team_id' })
  .meta({ id: 'AddTeamMemberRequest', description: 'A member of the organization ({user_id}) or another of its teams ({team_id})' });

/** Who holds a membership: a user, or a team (all of whose members, nested teams included, then count). */
export const memberSubject = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('user'), id: z.uuid(), username: z.string(), email: z.string() }),
    z.object({ type: z.literal('team'), id: z.uuid(), name: z.string() }),
  ])
  .meta({ id: 'MemberSubject' });

export const teamMemberResponse = z
  .object({ id: z.uuid(), team_id: z.uuid(), subject: memberSubject, created_at: z.iso.datetime() })
  .meta({ id: 'TeamMemberResponse' });
