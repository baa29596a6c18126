import { z } from 'zod';
import type { Api } from '../../http/route.ts';
import type { AccountDeletionService } from '../../services/account-deletion.service.ts';
import type { SessionService } from '../../services/session.service.ts';
import { presentSignInSession } from './presenter.ts';
import { deleteAccountBody, sessionParams, signInSessionResponse } from './schema.ts';

const tags = ['account'];

/** What a signed-in person does to their own account: their sessions, and deleting it. */
export function accountRoutes(api: Api, sessions: SessionService, deletion: AccountDeletionService): void {
  api.addAuthenticated({
    method: 'delete',
    path: '/api/v1/auth/me',
    summary:
      'Delete your account: with your password, or from a session signed in within ACCOUNT_REAUTH_MINUTES (403 otherwise). ' +
      '409 while you own an organization. Your memberships, team memberships, grants and sessions go with it',
    tags,
    body: deleteAccountBody,
    response: { status: 204, description: 'The account is deleted; every one of its tokens is refused' },
    errors: [403, 409, 429],
    handler: async (ctx, { actor, body }) => deletion.deleteOwn(actor, { password: body.password }, { address: ctx.ip }),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/auth/me/sessions',
    summary: "The caller's live sessions (at most the 100 most recently used), the current one marked",
    tags,
    response: { status: 200, description: 'The sessions, most recently used first', schema: z.array(signInSessionResponse) },
    handler: async (_ctx, { actor }) =>
      (await sessions.liveSessionsOf(actor.userId)).map((session) => presentSignInSession(session, actor.sessionId)),
  });

  api.addAuthenticated({
    method: 'delete',
    path: '/api/v1/auth/me/sessions/{session_id}',
    summary:
      "End one of the caller's sessions, as logout does: its refresh tokens at once, its access tokens on every instance " +
      "(the same 404 for another user's session, an ended one and an unknown id)",
    tags,
    params: sessionParams,
    response: { status: 204, description: 'The session has ended' },
    errors: [404],
    handler: async (_ctx, { actor, params }) => sessions.endOwn(actor.userId, params.session_id),
  });
}
