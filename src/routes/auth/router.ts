import type { Api } from '../../http/route.ts';
import type { AccessTokens } from '../../services/access-tokens.ts';
import type { IdentityService } from '../../services/identity.service.ts';
import type { IntrospectionService } from '../../services/introspection.service.ts';
import type { InvitationAnswerService } from '../../services/invitation-answer.service.ts';
import { presentIntrospection, presentLogin, presentMe, presentSession, presentSignIn, presentSwitchedContext } from './presenter.ts';
import {
  introspectBody,
  introspectionResponse,
  jwksResponse,
  loginBody,
  loginResponse,
  meResponse,
  refreshBody,
  sessionResponse,
  signInResponse,
  signupBody,
  switchContextBody,
  switchedContextResponse,
} from './schema.ts';

export function authRoutes(
  api: Api,
  identity: IdentityService,
  tokens: AccessTokens,
  invitations: InvitationAnswerService,
  introspection: IntrospectionService,
): void {
  api.add({
    method: 'post',
    path: '/api/v1/auth/email/signup',
    summary: 'Create an account (with its own organization and default workspace) and sign in',
    tags: ['auth'],
    body: signupBody,
    response: { status: 201, description: 'Signed in', schema: signInResponse },
    errors: [409, 429],
    handler: async (ctx, { body }) => {
      const signedIn = await identity.signup({ username: body.username, email: body.email, password: body.password }, { address: ctx.ip });
      if (body.invitation_token) await invitations.acceptOnSignup(signedIn.user.id, body.invitation_token);
      return presentSignIn(signedIn);
    },
  });

  api.add({
    method: 'post',
    path: '/api/v1/auth/email/login',
    summary: 'Sign in with email and password; an account with a second factor answers a challenge (POST /auth/mfa/verify)',
    tags: ['auth'],
    body: loginBody,
    response: { status: 200, description: 'Signed in, or `mfa_required` with a challenge', schema: loginResponse },
    errors: [401, 429],
    handler: async (ctx, { body }) =>
      presentLogin(await identity.login(body, { address: ctx.ip, deviceToken: body.device_token })),
  });

  api.add({
    method: 'post',
    path: '/api/v1/auth/refresh',
    summary: 'Exchange a refresh token (single use) for new tokens',
    tags: ['auth'],
    body: refreshBody,
    response: { status: 200, description: 'New access and refresh tokens', schema: sessionResponse },
    errors: [401],
    handler: async (_ctx, { body }) => presentSession(await identity.refresh(body.refresh_token)),
  });

  api.add({
    method: 'post',
    path: '/api/v1/auth/logout',
    summary: "Revoke the refresh token's whole family",
    tags: ['auth'],
    body: refreshBody,
    response: { status: 204, description: 'Signed out' },
    handler: async (_ctx, { body }) => identity.logout(body.refresh_token),
  });

  api.addForServices({
    method: 'post',
    path: '/api/v1/auth/introspect',
    summary:
      'RFC 7662 introspection of an access token, aware of ended sessions (service accounts only; one limited to ' +
      'organizations sees only tokens of their members as active)',
    tags: ['auth'],
    body: introspectBody,
    response: { status: 200, description: 'Whether the token is active, and its claims if so', schema: introspectionResponse },
    handler: async (_ctx, { actor, body }) => presentIntrospection(await introspection.introspect(actor, body.token)),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/auth/me',
    summary: 'The caller, and the context of the presented token',
    tags: ['auth'],
    response: { status: 200, description: 'The caller', schema: meResponse },
    handler: async (_ctx, { actor }) => presentMe(await identity.currentUser(actor), actor),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/auth/switch-context',
    summary: 'A new access token for another organization and workspace the caller can view',
    tags: ['auth'],
    body: switchContextBody,
    response: { status: 200, description: 'An access token for the new context', schema: switchedContextResponse },
    errors: [403],
    handler: async (_ctx, { actor, body }) =>
      presentSwitchedContext(
        await identity.switchContext(actor, { organizationId: body.org_id, workspaceId: body.workspace_id ?? null }),
      ),
  });

  api.add({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'The public keys that verify access tokens',
    tags: ['auth'],
    response: { status: 200, description: 'A JSON Web Key Set', schema: jwksResponse },
    handler: async (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      return tokens.jwks();
    },
  });
}
