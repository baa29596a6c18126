import { z } from 'zod';
import { text } from '../../http/fields.ts';

/** A six-digit TOTP code, or a recovery code (`xxxxx-xxxxx`; case, spaces and dashes do not matter). */
const code = text(32).pipe(z.string().min(6, { error: 'must be a six-digit code or a recovery code' }));

export const codeBody = z
  .strictObject({ code: code.meta({ description: 'A six-digit code of the authenticator app, or (to verify or disable) a recovery code' }) })
  .meta({ id: 'SecondFactorCode' });

export const confirmBody = z
  .strictObject({ code: z.string().regex(/^\d{6}$/, { error: 'must be the six digits the authenticator app shows' }) })
  .meta({ id: 'TotpConfirmation' });

export const verifyBody = z
  .strictObject({ challenge_token: text(200).pipe(z.string().min(1)), code })
  .meta({ id: 'MfaVerifyRequest' });

export const enrolmentResponse = z
  .object({
    secret: z.string().meta({ description: 'The base32 secret, for typing into an authenticator app' }),
    otpauth_uri: z.string().meta({ description: 'The otpauth:// URI (RFC 6238 key URI), for a QR code' }),
  })
  .meta({ id: 'TotpEnrolment' });

export const recoveryCodesResponse = z
  .object({
    recovery_codes: z.array(z.string()).meta({ description: 'Ten single-use codes, shown only now (stored as hashes)' }),
  })
  .meta({ id: 'RecoveryCodes' });

export const mfaStatusResponse = z
  .object({ totp_enabled: z.boolean(), recovery_codes_left: z.number().int() })
  .meta({ id: 'MfaStatus' });
