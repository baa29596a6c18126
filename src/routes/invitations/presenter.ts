import type { Invitation } from '../../db/entities/index.ts';
import type { InvitationPreview } from '../../services/invitation-answer.service.ts';

/** Never the token nor its hash; nor the email of an account it was proposed to (`user_id`). */
export function presentInvitation(invitation: Invitation) {
  return {
    id: invitation.id,
    organization_id: invitation.organization.id,
    email: invitation.invitee ? null : invitation.email,
    user_id: invitation.invitee?.id ?? null,
    role: invitation.role,
    workspaces: invitation.workspaces.map(({ workspace_id, role }) => ({ workspace_id, role })),
    state: invitation.stateAt(),
    delivery: invitation.delivery,
    expires_at: invitation.expiresAt.toISOString(),
    invited_by: invitation.invitedBy.id,
    created_at: invitation.createdAt.toISOString(),
  };
}

export function presentPreview(preview: InvitationPreview) {
  return {
    organization_name: preview.organizationName,
    inviter_username: preview.inviterUsername,
    role: preview.role,
    workspaces: preview.workspaces,
    email: preview.maskedEmail,
    expires_at: preview.expiresAt.toISOString(),
  };
}

export function presentMyInvitation(invitation: Invitation) {
  return {
    id: invitation.id,
    organization_id: invitation.organization.id,
    organization_name: invitation.organization.name,
    inviter_username: invitation.invitedBy.username,
    role: invitation.role,
    expires_at: invitation.expiresAt.toISOString(),
  };
}
