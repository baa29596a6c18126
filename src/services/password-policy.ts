import zxcvbn from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import { translations } from '@zxcvbn-ts/language-en';

/** zxcvbn's 0–4 scale: 3 is "safely unguessable: moderate protection from offline slow-hash scenario". */
const MIN_SCORE = 3;

/** Words of the product itself, which a password is as weak for containing as the user's own name. */
const PRODUCT_WORDS = ['tenant-authz', 'tenantauthz', 'tenant', 'authz'];

/**
 * zxcvbn-ts's estimate with its common-password, diceware and keyboard-pattern data (from the npm
 * packages, loaded once at import, no network). Leetspeak variants are tried up to 8 substitutions:
 * its default of 100 costs ~300 ms per random 16-character password, 8 costs ~3 ms and still finds
 * `P@ssw0rd!`. English word lists are left out for the same reason (~60 ms a check); its messages
 * are used.
 */
const estimator = new zxcvbn.ZxcvbnFactory({
  dictionary: { ...common.dictionary },
  graphs: common.adjacencyGraphs,
  translations,
  l33tMaxSubstitutions: 8,
});

/** A local part this short ("al@…") would refuse too much; the estimate still penalises it. */
const MIN_LOCAL_PART_LENGTH = 3;

export interface PasswordOwner {
  username: string;
  email: string;
}

/** Why the password cannot be used, in words the user can act on; undefined when it can. */
export function passwordProblem(password: string, owner: PasswordOwner): string | undefined {
  if (password.trim() === '') return 'must not be only whitespace';
  const lowered = password.normalize('NFKC').toLowerCase();
  const localPart = owner.email.split('@')[0]?.toLowerCase() ?? '';
  if (localPart.length >= MIN_LOCAL_PART_LENGTH && lowered.includes(localPart)) {
    return `must not contain "${localPart}", the part of your email address before the @`;
  }
  const estimate = estimator.check(password, ownWords(owner));
  if (estimate.score >= MIN_SCORE) return undefined;
  const why = estimate.feedback.warning ?? estimate.feedback.suggestions[0];
  return `is too easy to guess${why ? ` (${why.replace(/\.$/, '')})` : ''}; add more words or characters that are less predictable`;
}

/** The product's name, then the user's own name and address, whole and in parts: what is guessed first. */
function ownWords(owner: PasswordOwner): string[] {
  const [localPart = '', domain = ''] = owner.email.toLowerCase().split('@');
  const parts = [...owner.username.split(/[_.-]/), ...localPart.split(/[_.+-]/)].filter((part) => part.length >= MIN_LOCAL_PART_LENGTH);
  return [...PRODUCT_WORDS, owner.username, owner.email.toLowerCase(), localPart, domain, ...parts];
}
