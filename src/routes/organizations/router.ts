import { z } from 'zod';
import { linkNextPage, pageQuery, pageRequest } from '../../http/pagination.ts';
import type { Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import { serviceAccountOf } from '../../services/authorization.service.ts';
import type { InvitationService } from '../../services/invitation.service.ts';
import type { OrganizationMemberService } from '../../services/organization-member.service.ts';
import type { OrganizationService } from '../../services/organization.service.ts';
import type { SubscriptionTierService } from '../../services/subscription-tier.service.ts';
import { presentBilling, presentListedMember, presentMember, presentOrganization, presentPendingMember, presentTierChange } from './presenter.ts';
import {
  addMemberBody,
  billingResponse,
  changeMemberRoleBody,
  listedMember,
  createOrganizationBody,
  memberParams,
  organizationMemberResponse,
  organizationParams,
  organizationResponse,
  setSubscriptionTierBody,
  subscriptionTierResponse,
  transferOwnershipBody,
  updateBillingBody,
  updateOrganizationBody,
} from './schema.ts';

const BASE = '/api/v1/orgs';
const tags = ['organizations'];

export function organizationRoutes(
  api: Api,
  organizations: OrganizationService,
  members: OrganizationMemberService,
  invitations: InvitationService,
  tiers: SubscriptionTierService,
): void {
  api.addAuthenticated({
    method: 'post',
    path: BASE,
    summary: 'Create an organization; the caller becomes its owner, with a default workspace',
    tags,
    body: createOrganizationBody,
    response: { status: 200, description: 'The new organization', zedToken: true, schema: organizationResponse },
    handler: async (ctx, { actor, body }) =>
      presentOrganization(withZedToken(ctx, await organizations.create(actor.userId, { name: body.name, billingEmail: body.billing_email }))),
  });

  api.addAuthenticated({
    method: 'get',
    path: BASE,
    summary: 'The organizations the caller can view (next page in the Link header)',
    tags,
    query: pageQuery,
    response: { status: 200, description: 'A page of organizations', schema: z.array(organizationResponse) },
    handler: async (ctx, { actor, query }) =>
      linkNextPage(ctx, await organizations.list(actor.userId, pageRequest(ctx, query)), query.limit).map(presentOrganization),
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{org_id}`,
    summary: 'An organization (org:view)',
    tags,
    params: organizationParams,
    response: { status: 200, description: 'The organization', schema: organizationResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) => presentOrganization(await organizations.get(actor.userId, params.org_id)),
  });

  api.addAuthenticated({
    method: 'patch',
    path: `${BASE}/{org_id}`,
    summary:
      "Rename or re-address an organization, set new members' default_workspace_role, or require a second factor of every member " +
      '(require_mfa) (org:update; the billing email also needs org:billing_update)',
    tags,
    params: organizationParams,
    body: updateOrganizationBody,
    response: { status: 200, description: 'The updated organization', zedToken: true, schema: organizationResponse },
    errors: [403, 409],
    handler: async (ctx, { actor, params, body }) =>
      presentOrganization(
        withZedToken(ctx, await organizations.update(actor.userId, params.org_id, {
          name: body.name,
          defaultWorkspaceRole: body.default_workspace_role,
          requireMfa: body.require_mfa,
          billingEmail: body.billing_email,
        })),
      ),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{org_id}`,
    summary: 'Delete an organization with everything in it (org:delete)',
    tags,
    params: organizationParams,
    response: { status: 204, description: 'Deleted', zedToken: true },
    errors: [403],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await organizations.delete(actor.userId, params.org_id));
    },
  });

  api.addForCallers({
    method: 'post',
    path: `${BASE}/{org_id}/members`,
    summary:
      'Propose a membership to an existing account (org:invite): it stays pending (no access, no email shown, not in their ' +
      'organization list) until that user accepts it from GET /auth/me/invitations or the mailed link. A trusted service ' +
      "account's key adds the member at once. A member also joins the default workspace with the organization's default_workspace_role",
    tags,
    params: organizationParams,
    body: addMemberBody,
    response: { status: 200, description: 'The membership, in the member list\'s shape: state pending, or active when a trusted service account added it', zedToken: true, schema: listedMember },
    errors: [402, 403, 404, 409, 429],
    handler: async (ctx, { actor, params, body }) =>
      actor.kind === 'service'
        ? presentListedMember({ membership: withZedToken(ctx, await members.addAsService(actor.account, params.org_id, body.user_id, body.role)), customRoles: [] })
        : presentPendingMember(withZedToken(ctx, await invitations.proposeMembership(actor.userId, params.org_id, body.user_id, body.role))),
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{org_id}/members`,
    summary: 'The members (org:view; next page in the Link header)',
    tags,
    params: organizationParams,
    query: pageQuery,
    response: { status: 200, description: 'A page of members, each with their custom roles', schema: z.array(listedMember) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await members.list(actor.userId, params.org_id, pageRequest(ctx, query)), query.limit).map(presentListedMember),
  });

  api.addAuthenticated({
    method: 'patch',
    path: `${BASE}/{org_id}/members/{user_id}`,
    summary: "Change a member's role (org:update_member)",
    tags,
    params: memberParams,
    body: changeMemberRoleBody,
    response: { status: 200, description: 'The membership', zedToken: true, schema: organizationMemberResponse },
    errors: [400, 403, 404],
    handler: async (ctx, { actor, params, body }) =>
      presentMember(withZedToken(ctx, await members.changeRole(actor.userId, params.org_id, params.user_id, body.role))),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{org_id}/members/{user_id}`,
    summary: 'Remove a member (org:remove_member), or leave',
    tags,
    params: memberParams,
    response: { status: 204, description: 'Removed', zedToken: true },
    errors: [400, 403, 404],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await members.remove(actor.userId, params.org_id, params.user_id));
    },
  });

  api.addAuthenticated({
    method: 'get',
    path: `${BASE}/{org_id}/billing`,
    summary: 'Plan, usage and limits (org:billing)',
    tags,
    params: organizationParams,
    response: { status: 200, description: 'Billing', schema: billingResponse },
    errors: [403],
    handler: async (_ctx, { actor, params }) => presentBilling(await organizations.billing(actor.userId, params.org_id)),
  });

  api.addAuthenticated({
    method: 'patch',
    path: `${BASE}/{org_id}/billing`,
    summary: 'Change the billing email (org:billing_update); the plan is set by the billing system',
    tags,
    params: organizationParams,
    body: updateBillingBody,
    response: { status: 200, description: 'Billing', zedToken: true, schema: billingResponse },
    errors: [403],
    handler: async (ctx, { actor, params, body }) =>
      presentBilling(withZedToken(ctx, await organizations.updateBilling(actor.userId, params.org_id, { billingEmail: body.billing_email }))),
  });

  api.addForCallers({
    method: 'put',
    path: `${BASE}/{org_id}/subscription-tier`,
    summary: "Set the organization's plan: only a service account created with --sets-tiers (a billing system, after payment)",
    tags,
    params: organizationParams,
    body: setSubscriptionTierBody,
    response: { status: 200, description: 'The plan, and the one before', zedToken: true, schema: subscriptionTierResponse },
    errors: [403, 404],
    handler: async (ctx, { actor, params, body }) =>
      presentTierChange(
        withZedToken(ctx, await tiers.setByService(serviceAccountOf(actor, 'set subscription tiers'), params.org_id, body.subscription_tier)),
      ),
  });

  api.addAuthenticated({
    method: 'post',
    path: `${BASE}/{org_id}/transfer-ownership`,
    summary: 'Make another member the owner; the old owner becomes an admin (org:transfer_ownership)',
    tags,
    params: organizationParams,
    body: transferOwnershipBody,
    response: { status: 200, description: 'The organization', zedToken: true, schema: organizationResponse },
    errors: [400, 403],
    handler: async (ctx, { actor, params, body }) =>
      presentOrganization(withZedToken(ctx, await organizations.transferOwnership(actor.userId, params.org_id, body.user_id))),
  });
}
