import { z } from 'zod';
import { uuid } from '../../http/fields.ts';

export const sessionParams = z.strictObject({ session_id: uuid }).meta({ id: 'SessionParams' });

export const signInSessionResponse = z
  .object({
    id: z.uuid().meta({ description: 'The session (the `sid` claim of its access tokens)' }),
    created_at: z.iso.datetime().meta({ description: 'When the sign-in happened' }),
    last_used_at: z.iso.datetime().meta({ description: 'The sign-in, or the newest refresh of its refresh token' }),
    client_address: z.string().nullable().meta({ description: 'The address that sign-in or refresh came from' }),
    user_agent: z.string().nullable().meta({ description: 'The User-Agent it sent (at most 256 characters)' }),
    current: z.boolean().meta({ description: 'Whether it is the session of the access token that asked' }),
  })
  .meta({ id: 'SignInSession' });

export const deleteAccountBody = z
  .strictObject({
    password: z.string().max(128).optional().meta({
      description: 'Your password; without it, the session must have signed in within the last ACCOUNT_REAUTH_MINUTES',
    }),
  })
  .meta({ id: 'DeleteAccountRequest' });
