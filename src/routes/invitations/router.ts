import { z } from 'zod';
import { linkNextPage, pageRequest } from '../../http/pagination.ts';
import type { Api } from '../../http/route.ts';
import { withZedToken } from '../../http/zed-token.ts';
import type { InvitationAnswerService } from '../../services/invitation-answer.service.ts';
import type { InvitationService } from '../../services/invitation.service.ts';
import { presentMember } from '../organizations/presenter.ts';
import { organizationMemberResponse } from '../organizations/schema.ts';
import { presentInvitation, presentMyInvitation, presentPreview } from './presenter.ts';
import {
  createInvitationBody,
  invitationListParams,
  invitationListQuery,
  invitationParams,
  invitationPreviewResponse,
  invitationResponse,
  myInvitationParams,
  myInvitationResponse,
  tokenParams,
} from './schema.ts';

const BASE = '/api/v1/orgs/{org_id}/invitations';
const tags = ['invitations'];

export function invitationRoutes(api: Api, invitations: InvitationService, answers: InvitationAnswerService): void {
  api.addAuthenticated({
    method: 'post',
    path: BASE,
    summary: 'Invite someone by email (org:invite; workspaces also need workspace:manage_members); the token goes only to their mailbox',
    tags,
    params: invitationListParams,
    body: createInvitationBody,
    response: { status: 201, description: 'The invitation', zedToken: true, schema: invitationResponse },
    errors: [402, 403, 404, 409, 429],
    handler: async (ctx, { actor, params, body }) => {
      const written = await invitations.create(actor.userId, params.org_id, {
        email: body.email,
        role: body.role,
        workspaces: body.workspaces,
        expiresInDays: body.expires_in_days,
      });
      return presentInvitation(withZedToken(ctx, written));
    },
  });

  api.addAuthenticated({
    method: 'get',
    path: BASE,
    summary: 'The invitations, optionally in one state (org:invite; next page in the Link header)',
    tags,
    params: invitationListParams,
    query: invitationListQuery,
    response: { status: 200, description: 'A page of invitations', schema: z.array(invitationResponse) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) =>
      linkNextPage(ctx, await invitations.list(actor.userId, params.org_id, query.state, pageRequest(ctx, query)), query.limit, {
        state: query.state,
      }).map(presentInvitation),
  });

  api.addAuthenticated({
    method: 'delete',
    path: `${BASE}/{invitation_id}`,
    summary: 'Revoke a pending invitation: its token stops working (org:invite)',
    tags,
    params: invitationParams,
    response: { status: 204, description: 'Revoked', zedToken: true },
    errors: [403, 404, 409],
    handler: async (ctx, { actor, params }) => {
      withZedToken(ctx, await invitations.revoke(actor.userId, params.org_id, params.invitation_id));
    },
  });

  api.addAuthenticated({
    method: 'post',
    path: `${BASE}/{invitation_id}/resend`,
    summary:
      'Send a pending or expired invitation again with a new token (the old one dead) and a new expiry (org:invite); the caller ' +
      'becomes its inviter. Not within INVITATION_RESEND_COOLDOWN_SECONDS of its last message (429)',
    tags,
    params: invitationParams,
    response: { status: 200, description: 'The invitation', zedToken: true, schema: invitationResponse },
    errors: [402, 403, 404, 409, 429],
    handler: async (ctx, { actor, params }) =>
      presentInvitation(withZedToken(ctx, await invitations.resend(actor.userId, params.org_id, params.invitation_id))),
  });

  api.add({
    method: 'get',
    path: '/api/v1/invitations/{token}',
    summary: 'What an invitation offers (public; the same 404 for an unknown, used, revoked or expired token)',
    tags,
    params: tokenParams,
    response: { status: 200, description: 'The invitation, with the email masked', schema: invitationPreviewResponse },
    errors: [404],
    handler: async (_ctx, { params }) => presentPreview(await answers.preview(params.token)),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/invitations/{token}/accept',
    summary:
      "Join the organization with the invitation's role and workspace roles (the caller's email must be the one it was sent to; " +
      'the token proves that address, which is then marked verified)',
    tags,
    params: tokenParams,
    response: { status: 200, description: 'The membership', zedToken: true, schema: organizationMemberResponse },
    errors: [403, 404, 409],
    handler: async (ctx, { actor, params }) => presentMember(withZedToken(ctx, await answers.accept(actor.userId, params.token))),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/invitations/{token}/decline',
    summary: "Decline an invitation (the caller's email must match)",
    tags,
    params: tokenParams,
    response: { status: 204, description: 'Declined' },
    errors: [403, 404],
    handler: async (_ctx, { actor, params }) => {
      await answers.decline(actor.userId, params.token);
    },
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/auth/me/invitations',
    summary:
      'The open invitations the caller may answer by id: memberships proposed to their account, and invitations to their email ' +
      'once the account has proven it (email_verified_at)',
    tags,
    response: { status: 200, description: 'Pending invitations', schema: z.array(myInvitationResponse) },
    handler: async (_ctx, { actor }) => (await answers.mine(actor.userId)).map(presentMyInvitation),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/auth/me/invitations/{invitation_id}/accept',
    summary: 'Accept one of GET /auth/me/invitations: the same 404 for any id that list does not show the caller',
    tags,
    params: myInvitationParams,
    response: { status: 200, description: 'The membership', zedToken: true, schema: organizationMemberResponse },
    errors: [404, 409],
    handler: async (ctx, { actor, params }) => presentMember(withZedToken(ctx, await answers.acceptById(actor.userId, params.invitation_id))),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/auth/me/invitations/{invitation_id}/decline',
    summary: 'Decline one of GET /auth/me/invitations: the same 404 for any id that list does not show the caller',
    tags,
    params: myInvitationParams,
    response: { status: 204, description: 'Declined' },
    errors: [404],
    handler: async (_ctx, { actor, params }) => {
      await answers.declineById(actor.userId, params.invitation_id);
    },
  });
}
