import type { Invitation, OrganizationMembership } from '../../db/entities/index.ts';
import type { ListedMember } from '../../services/organization-member.service.ts';
import { presentHeldRole } from '../roles/presenter.ts';
import type { Billing, OrganizationView } from '../../services/organization.service.ts';
import type { TierChange } from '../../services/subscription-tier.service.ts';

export function presentOrganization({ organization, role }: OrganizationView) {
  return {
    id: organization.id,
    name: organization.name,
    billing_email: organization.billingEmail,
    subscription_tier: organization.subscriptionTier,
    default_workspace_role: organization.defaultWorkspaceRole,
    require_mfa: organization.requireMfa,
    created_at: organization.createdAt.toISOString(),
    updated_at: organization.updatedAt.toISOString(),
    role,
  };
}

export function presentMember(membership: OrganizationMembership) {
  return {
    id: membership.id,
    organization_id: membership.organization.id,
    user_id: membership.user.id,
    role: membership.role,
    created_at: membership.createdAt.toISOString(),
  };
}

export function presentMemberWithUser(membership: OrganizationMembership) {
  return { ...presentMember(membership), username: membership.user.username, email: membership.user.email, state: 'active' as const };
}

export function presentListedMember({ membership, customRoles }: ListedMember) {
  return { ...presentMemberWithUser(membership), custom_roles: customRoles.map(presentHeldRole) };
}

/** A membership proposed to an account, in the member list's shape: no email until they accept. */
export function presentPendingMember(invitation: Invitation) {
  if (!invitation.invitee) throw new Error(`invitation ${invitation.id} is addressed to no account`);
  return {
    id: invitation.id,
    organization_id: invitation.organization.id,
    user_id: invitation.invitee.id,
    role: invitation.role,
    created_at: invitation.createdAt.toISOString(),
    username: invitation.invitee.username,
    email: null,
    state: 'pending' as const,
    custom_roles: [],
  };
}

export function presentBilling(billing: Billing) {
  return {
    subscription_tier: billing.subscriptionTier,
    billing_email: billing.billingEmail,
    usage: billing.usage,
    limits: billing.limits,
  };
}

export function presentTierChange({ organization, previous }: TierChange) {
  return { organization_id: organization.id, subscription_tier: organization.subscriptionTier, previous_subscription_tier: previous };
}
