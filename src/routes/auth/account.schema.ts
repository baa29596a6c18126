import { z } from 'zod';
import { email, text } from '../../http/fields.ts';
import { password } from './schema.ts';

const mailedToken = text(128)
  .pipe(z.string().min(16))
  .meta({ description: 'The token of the mailed link (the last segment of /verify-email/{token} or /reset-password/{token})' });

export const verifyEmailBody = z
  .strictObject({
    token: mailedToken,
    password: z.string().max(128).meta({ description: "The account's password: the link proves the address, the password the account" }),
  })
  .meta({ id: 'VerifyEmailRequest' });

export const verifiedResponse = z
  .object({ email_verified: z.literal(true), email: z.string() })
  .meta({ id: 'EmailVerified' });

export const forgotPasswordBody = z.strictObject({ email }).meta({ id: 'ForgotPasswordRequest' });

export const resetPasswordBody = z
  .strictObject({
    token: mailedToken,
    password: password.meta({ description: 'The new password (judged as at signup)' }),
  })
  .meta({ id: 'ResetPasswordRequest' });

export const changePasswordBody = z
  .strictObject({
    current_password: z.string().max(128),
    new_password: password.meta({ description: 'The new password (judged as at signup)' }),
  })
  .meta({ id: 'ChangePasswordRequest' });
