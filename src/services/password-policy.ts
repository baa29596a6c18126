import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * What a new password must not be, beyond its length: one of the passwords attackers try first
 * (zxcvbn-ts's list of ~49,000 common passwords, from the npm package, loaded once at import, no
 * network), only whitespace, or built on the account's own email address.
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  (dictionary['passwords-common'] as string[]).map((password) => password.toLowerCase()),
);

/** A local part this short ("al@…") would refuse too much; the list still catches the common ones. */
const MIN_LOCAL_PART_LENGTH = 3;

/** Why the password cannot be used, in words the user can act on; undefined when it can. */
export function passwordProblem(password: string, email: string): string | undefined {
  if (password.trim() === '') return 'must not be only whitespace';
  const lowered = password.normalize('NFKC').toLowerCase();
  if (COMMON_PASSWORDS.has(lowered) || COMMON_PASSWORDS.has(lowered.trim())) {
    return 'is one of the most commonly used passwords; choose a less predictable one';
  }
  const localPart = email.split('@')[0]?.toLowerCase() ?? '';
  if (localPart.length >= MIN_LOCAL_PART_LENGTH && lowered.includes(localPart)) {
    return `must not contain "${localPart}", the part of your email address before the @`;
  }
  return undefined;
}
