import { z } from 'zod';
import { displayName, text, uuid } from '../../http/fields.ts';

const description = text(2000).nullable();

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
