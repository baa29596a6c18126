import { z } from 'zod';
import { DEFAULT_WORKSPACE_ROLES, ORGANIZATION_ROLES, SUBSCRIPTION_TIERS } from '../../db/entities/index.ts';
import { displayName, email, uuid } from '../../http/fields.ts';
import { heldCustomRole } from '../roles/schema.ts';

const name = displayName;
const billingEmail = email;
const subscriptionTier = z.enum(SUBSCRIPTION_TIERS, { error: `must be one of ${SUBSCRIPTION_TIERS.join(', ')}` });
const defaultWorkspaceRole = z
  .enum(DEFAULT_WORKSPACE_ROLES, { error: `must be one of ${DEFAULT_WORKSPACE_ROLES.join(', ')}` })
  .meta({
    description:
      "The role a member gets in the organization's default workspace (its oldest, the \"Default Workspace\" " +
      'created with it) when they join the organization: viewer (the default: they see it, and change nothing), ' +
      'editor, or none (no workspace until someone adds them to one). Changing it affects later joins only.',
  });
const assignableRole = z.enum(['admin', 'member'], {
  error: 'must be admin or member (ownership moves only by transfer)',
});

export const organizationParams = z.strictObject({ org_id: uuid });
export const memberParams = z.strictObject({ org_id: uuid, user_id: uuid });

export const createOrganizationBody = z
  .strictObject({ name, billing_email: billingEmail.optional() })
  .meta({ id: 'CreateOrganizationRequest' });

export const updateOrganizationBody = z
  .strictObject({
    name: name.optional(),
    billing_email: billingEmail.optional(),
    default_workspace_role: defaultWorkspaceRole.optional(),
    require_mfa: z.boolean().optional().meta({
      description: 'Require a second factor of every member: until they enrol, they hold nothing in the organization (turning it on needs one of your own: 409)',
    }),
  })
  .meta({ id: 'UpdateOrganizationRequest' });

export const addMemberBody = z.strictObject({ user_id: uuid, role: assignableRole }).meta({ id: 'AddMemberRequest' });
export const changeMemberRoleBody = z.strictObject({ role: assignableRole }).meta({ id: 'ChangeMemberRoleRequest' });
export const transferOwnershipBody = z.strictObject({ user_id: uuid }).meta({ id: 'TransferOwnershipRequest' });

export const updateBillingBody = z.strictObject({ billing_email: billingEmail.optional() }).meta({ id: 'UpdateBillingRequest' });

export const setSubscriptionTierBody = z.strictObject({ subscription_tier: subscriptionTier }).meta({ id: 'SetSubscriptionTierRequest' });

export const subscriptionTierResponse = z
  .object({ organization_id: z.uuid(), subscription_tier: subscriptionTier, previous_subscription_tier: subscriptionTier })
  .meta({ id: 'SubscriptionTierResponse' });

export const organizationResponse = z
  .object({
    id: z.uuid(),
    name: z.string(),
    billing_email: z.string(),
    subscription_tier: subscriptionTier,
    default_workspace_role: defaultWorkspaceRole,
    require_mfa: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    role: z.enum(ORGANIZATION_ROLES).nullable(),
  })
  .meta({ id: 'OrganizationResponse' });

export const organizationMemberResponse = z
  .object({
    id: z.uuid(),
    organization_id: z.uuid(),
    user_id: z.uuid(),
    role: z.enum(ORGANIZATION_ROLES),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'OrganizationMemberResponse' });

export const organizationMemberListItem = organizationMemberResponse
  .extend({
    username: z.string(),
    email: z.string().nullable().meta({ description: "null while pending: the organization sees no one's email before they accept" }),
    state: z.enum(['active', 'pending']).meta({
      description:
        'pending: proposed by POST /orgs/{org_id}/members and not yet accepted by that user (no access, no email, `id` is the ' +
        "invitation's: it lists under GET /orgs/{org_id}/invitations and is revoked there). The member list holds active members only",
    }),
  })
  .meta({ id: 'OrganizationMemberListItem' });

/** A member as the member list shows them: with the custom roles they hold themselves (not through a team). */
export const listedMember = organizationMemberListItem
  .extend({ custom_roles: z.array(heldCustomRole).meta({ description: 'Held across the organization (workspace_id null) or in one workspace' }) })
  .meta({ id: 'OrganizationMemberWithRoles' });

const limit = z.number().int().nullable();
export const billingResponse = z
  .object({
    subscription_tier: subscriptionTier,
    billing_email: z.string(),
    usage: z.object({ members: z.number().int(), workspaces: z.number().int() }),
    limits: z.object({ members: limit, workspaces: limit }),
  })
  .meta({ id: 'BillingResponse' });
