import type { Api } from '../../http/route.ts';
import type { EmailVerificationService } from '../../services/email-verification.service.ts';
import type { PasswordService } from '../../services/password.service.ts';
import { changePasswordBody, forgotPasswordBody, resetPasswordBody, verifiedResponse, verifyEmailBody } from './account.schema.ts';

const tags = ['auth'];

/** Proving an address, and passwords forgotten or changed. */
export function accountRoutes(api: Api, verification: EmailVerificationService, passwords: PasswordService): void {
  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/auth/email/verification',
    summary:
      "Mail the caller's address a new verification link (the earlier one dies); 429 within ACCOUNT_MAIL_COOLDOWN_SECONDS " +
      'of the last one or past the account-mail throttle, 409 once verified',
    tags,
    response: { status: 202, description: 'A verification mail is on its way' },
    errors: [409, 429],
    handler: async (ctx, { actor }) => verification.resend(actor.userId, { address: ctx.ip }),
  });

  api.add({
    method: 'post',
    path: '/api/v1/auth/email/verify',
    summary:
      "Verify the address with the mailed link's token and the account's password (the same 404 for an unknown, used or expired " +
      'token; a wrong password is 401 and throttled as a login, and leaves the token usable)',
    tags,
    body: verifyEmailBody,
    response: { status: 200, description: 'The address is verified', schema: verifiedResponse },
    errors: [401, 404, 429],
    handler: async (ctx, { body }) => {
      const user = await verification.verify(body.token, body.password, { address: ctx.ip });
      return { email_verified: true as const, email: user.email };
    },
  });

  api.add({
    method: 'post',
    path: '/api/v1/auth/password/forgot',
    summary:
      'Mail a single-use link to choose a new password (RESET_TOKEN_TTL_SECONDS), if the address has an account: the same answer, ' +
      'as fast, either way; throttled per address and per client address',
    tags,
    body: forgotPasswordBody,
    response: { status: 202, description: 'If the address has an account, a mail is on its way' },
    errors: [429],
    handler: async (ctx, { body }) => passwords.forgot(body.email, { address: ctx.ip }),
  });

  api.add({
    method: 'post',
    path: '/api/v1/auth/password/reset',
    summary:
      'Choose a new password with a mailed token (a reset link, or a verification link whose address owner takes the account over): ' +
      'every session of the account ends on every instance and the address counts as verified',
    tags,
    body: resetPasswordBody,
    response: { status: 204, description: 'The password is changed; sign in with it' },
    errors: [404, 429],
    handler: async (ctx, { body }) => passwords.reset(body.token, body.password, { address: ctx.ip }),
  });

  api.addAuthenticated({
    method: 'post',
    path: '/api/v1/auth/password/change',
    summary: "Change the caller's password with the current one (checked and throttled as a login): every other session of the caller ends",
    tags,
    body: changePasswordBody,
    response: { status: 204, description: 'The password is changed; this session goes on' },
    errors: [429],
    handler: async (ctx, { actor, body }) =>
      passwords.change(actor, body.current_password, body.new_password, { address: ctx.ip }),
  });
}
