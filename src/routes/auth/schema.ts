import { z } from 'zod';
import { email, text, uuid } from '../../http/fields.ts';

export const username = z
  .string()
  .regex(/^[a-z0-9_.-]{3,32}$/, { error: 'must be 3 to 32 characters of a-z, 0-9, _, . or -' });

// Only the length here, so an oversized password is refused before anything else; how guessable it
// is, the service judges after the signup throttle (src/services/password-policy.ts).
export const password = z
  .string()
  .min(8, { error: 'must be at least 8 characters' })
  .max(128, { error: 'must be at most 128 characters' });


export const signupBody = z
  .strictObject({
    username,
    email,
    password,
    invitation_token: z
      .string()
      .min(16)
      .max(128)
      .optional()
      .meta({ description: "An invitation's token: when its email matches, the new account joins that organization too" }),
  })
  .meta({ id: 'SignupRequest' });

const deviceToken = text(200).meta({
  description:
    'The device token an earlier sign-in of this account answered on this client. It proves nothing by itself, ' +
    "but a client holding one is known to the account: strangers' failed logins elsewhere cannot throttle it, and it " +
    'signs in through its own share of password checking. Keep it like a refresh token.',
});

export const loginBody = z
  .strictObject({ email: text(320), password: z.string().max(128), device_token: deviceToken.optional() })
  .meta({ id: 'LoginRequest' });

export const refreshBody = z
  .strictObject({ refresh_token: text(200).pipe(z.string().min(1)) })
  .meta({ id: 'RefreshRequest' });

export const userResponse = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string(),
    email_verified: z.boolean().meta({
      description:
        'Whether the account has proven it reads its email: the verification link with its password, a password reset, or an invitation accepted with its mailed token',
    }),
    email_verified_at: z.iso.datetime().nullable().meta({
      description:
        'When the account proved it reads its email (see email_verified); null until then. ' +
        'Invitations by email are listed and accepted by id only for a proven address',
    }),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export const tokenContext = z
  .object({
    org_id: z.uuid().nullable().meta({ description: "The access token's organization (its org_id claim); after signup, the new organization" }),
    workspace_id: z
      .uuid()
      .nullable()
      .meta({ description: "The access token's workspace (its workspace_id claim); after signup, the organization's Default Workspace" }),
  })
  .meta({ id: 'TokenContext' });

export const sessionResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    refresh_token: z.string(),
    user: userResponse,
    context: tokenContext,
  })
  .meta({ id: 'Session' });

export const signInResponse = sessionResponse
  .extend({
    device_token: z.string().meta({
      description: 'Send it back as `device_token` in later logins from this client (the same one, or a new one, each time)',
    }),
  })
  .meta({ id: 'SignIn' });

export const meResponse = z
  .object({
    user: userResponse,
    context: tokenContext,
  })
  .meta({ id: 'Me' });

export const jwksResponse = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())) })
  .meta({ id: 'JsonWebKeySet' });

export const switchContextBody = z
  .strictObject({ org_id: uuid, workspace_id: uuid.optional() })
  .meta({ id: 'SwitchContextRequest' });

export const switchedContextResponse = sessionResponse.omit({ refresh_token: true }).meta({ id: 'SwitchedContext' });

export const introspectBody = z
  .strictObject({
    token: text(4096),
    // RFC 7662 lets callers hint; only access tokens are introspected here.
    token_type_hint: text(64).optional(),
  })
  .meta({ id: 'IntrospectionRequest' });

export const introspectionResponse = z
  .union([
    z.object({ active: z.literal(false) }),
    z.object({
      active: z.literal(true),
      token_type: z.literal('access_token'),
      sub: z.uuid(),
      sid: z.string(),
      exp: z.number().int(),
      org_id: z.uuid().nullable(),
      workspace_id: z.uuid().nullable(),
      email_verified: z.boolean().meta({ description: "Whether the token's user has proven their address (now, not when it was issued)" }),
    }),
  ])
  .meta({ id: 'Introspection' });
