import type { Api } from '../../http/route.ts';
import type { IdentityService } from '../../services/identity.service.ts';
import type { MfaSignIn } from '../../services/mfa-sign-in.ts';
import type { SecondFactors } from '../../services/second-factors.ts';
import { presentSession } from '../auth/presenter.ts';
import { sessionResponse } from '../auth/schema.ts';
import { codeBody, confirmBody, enrolmentResponse, mfaStatusResponse, recoveryCodesResponse, verifyBody } from './schema.ts';

const tags = ['mfa'];
const TOTP = '/api/v1/auth/me/mfa/totp';

/** The TOTP second factor: enrolment, confirmation, disabling, and the second step of a login. */
export function mfaRoutes(api: Api, identity: IdentityService, secondFactors: SecondFactors, mfaSignIn: MfaSignIn): void {
  api.add({
    method: 'post',
    path: '/api/v1/auth/mfa/verify',
    summary:
      "Complete a login's challenge with a TOTP code or a recovery code (each good once); the same 401 for a wrong code and an " +
      'unknown, used or expired challenge; 429 after too many wrong codes for the account or from the address',
    tags,
    body: verifyBody,
    response: { status: 200, description: 'Signed in (`amr`: pwd, otp, mfa)', schema: sessionResponse },
    errors: [401, 429],
    handler: async (ctx, { body }) => presentSession(await mfaSignIn.complete(body.challenge_token, body.code, ctx.ip)),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/auth/me/mfa',
    summary: "The caller's second factors",
    tags,
    response: { status: 200, description: 'Whether TOTP is enabled, and how many recovery codes are left', schema: mfaStatusResponse },
    handler: async (_ctx, { actor }) => {
      const status = await secondFactors.status(actor.userId);
      return { totp_enabled: status.totpEnabled, recovery_codes_left: status.recoveryCodesLeft };
    },
  });

  api.addAuthenticated({
    method: 'post',
    path: TOTP,
    summary: 'Start enrolling a TOTP factor: a new secret and its otpauth:// URI, to confirm with a code (409 once one is enabled)',
    tags,
    response: { status: 201, description: 'The secret, shown only now', schema: enrolmentResponse },
    errors: [409],
    handler: async (_ctx, { actor }) => {
      const enrolment = await secondFactors.enrol(await identity.currentUser(actor));
      return { secret: enrolment.secret, otpauth_uri: enrolment.uri };
    },
  });

  api.addAuthenticated({
    method: 'post',
    path: `${TOTP}/confirm`,
    summary: 'Confirm the enrolment with a current code (422 if it is not one, counted like a wrong code at login: 429 past the limits); answers ten single-use recovery codes',
    tags,
    body: confirmBody,
    response: { status: 200, description: 'Enabled: logins now ask for a code', schema: recoveryCodesResponse },
    errors: [409, 429],
    handler: async (ctx, { actor, body }) => ({
      recovery_codes: await secondFactors.confirm(await identity.currentUser(actor), body.code, ctx.ip),
    }),
  });

  api.addAuthenticated({
    method: 'delete',
    path: TOTP,
    summary: 'Disable the TOTP factor, proven with a code of it or a recovery code (403 if wrong; counted and throttled like a login challenge)',
    tags,
    body: codeBody,
    response: { status: 204, description: 'Disabled, with its recovery codes' },
    errors: [403, 409, 429],
    handler: async (ctx, { actor, body }) => secondFactors.disable(await identity.currentUser(actor), body.code, ctx.ip),
  });
}
