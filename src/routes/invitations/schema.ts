import { z } from 'zod';
import { DELIVERY_STATES, INVITATION_ROLES, INVITATION_STATES, WORKSPACE_ROLES } from '../../db/entities/index.ts';
import { email, uuid } from '../../http/fields.ts';
import { pageQuery } from '../../http/pagination.ts';

const role = z.enum(INVITATION_ROLES, { error: 'must be admin or member (ownership moves only by transfer)' });
const workspaceRole = z.enum(WORKSPACE_ROLES, { error: `must be one of ${WORKSPACE_ROLES.join(', ')}` });

export const invitationListParams = z.strictObject({ org_id: uuid });
export const invitationParams = z.strictObject({ org_id: uuid, invitation_id: uuid });
export const myInvitationParams = z.strictObject({ invitation_id: uuid });
export const tokenParams = z.strictObject({ token: z.string().min(16).max(128) });

export const createInvitationBody = z
  .strictObject({
    email,
    role,
    workspaces: z.array(z.strictObject({ workspace_id: uuid, role: workspaceRole })).max(50).default([]),
    expires_in_days: z.number().int().min(1).max(30).default(7),
  })
  .meta({ id: 'CreateInvitationRequest' });

export const invitationListQuery = pageQuery.extend({ state: z.enum(INVITATION_STATES).optional() });

export const invitationResponse = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    email: z.string().nullable().meta({ description: 'The invited address; null for a membership proposed to an account (see user_id), whose email the organization does not see' }),
    user_id: z.uuid().nullable().meta({ description: 'The account a membership was proposed to (POST /orgs/{org_id}/members); null for an invitation by email' }),
    role,
    workspaces: z.array(z.object({ workspace_id: z.uuid(), role: workspaceRole })),
    state: z.enum(INVITATION_STATES),
    delivery: z.enum(DELIVERY_STATES).meta({
      description: 'pending (not handed over yet), sent (an SMTP server took it), logged (SMTP_URL is unset: only logged), failed (dropped after MAIL_MAX_ATTEMPTS)',
    }),
    expires_at: z.iso.datetime(),
    invited_by: z.uuid(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'InvitationResponse' });

export const invitationPreviewResponse = z
  .object({
    organization_name: z.string(),
    inviter_username: z.string(),
    role,
    workspaces: z
      .array(z.object({ name: z.string(), role: workspaceRole }))
      .meta({ description: 'The workspaces accepting adds the invitee to, by name, with their roles' }),
    email: z.string().meta({ description: 'Masked: a***@example.com' }),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'InvitationPreviewResponse' });

export const myInvitationResponse = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    organization_name: z.string(),
    inviter_username: z.string(),
    role,
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'MyInvitationResponse' });
