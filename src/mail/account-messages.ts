import { escapeHtml, singleLine, type RenderedMessage } from './invitation-message.ts';

/**
 * Mails about a person's own account. Each says what its link does and until when, and what to do
 * if they did not ask for it. Subjects are fixed (no name anyone chose goes into one).
 */
interface AccountMessageInput {
  username: string;
  link: string;
  expiresAt: Date;
}

function render(subject: string, paragraphs: string[], action: string, input: AccountMessageInput): RenderedMessage {
  const expires = input.expiresAt.toISOString();
  const closing = `The link works once, until ${expires}.`;
  const text = [...paragraphs.flatMap((paragraph) => [paragraph, '']), `${action}: ${input.link}`, '', closing, ''].join('\n');
  const html = [
    '<!doctype html><html><body>',
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    `<p><a href="${escapeHtml(input.link)}">${escapeHtml(action)}</a></p>`,
    `<p>${escapeHtml(closing)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

export const VERIFICATION_SUBJECT = 'Confirm your email address';
export const RESET_SUBJECT = 'Choose a new password';
export const ALREADY_REGISTERED_SUBJECT = 'Someone tried to sign up with your email address';

export function renderVerificationMessage(input: AccountMessageInput): RenderedMessage {
  return render(
    VERIFICATION_SUBJECT,
    [
      `An account named "${singleLine(input.username)}" was created with this email address.`,
      'If it is yours, open the link and enter its password: that confirms this address belongs to the account. ' +
        'If you did not create it, the same page lets you take the account over with a new password; ' +
        'everyone signed in to it is signed out.',
    ],
    'Confirm this address',
    input,
  );
}

export function renderResetMessage(input: AccountMessageInput): RenderedMessage {
  return render(
    RESET_SUBJECT,
    [
      `Someone asked to reset the password of the account "${singleLine(input.username)}", which uses this email address.`,
      'Open the link to choose a new password. Every session of the account is then signed out. ' +
        'If you did not ask for this, ignore this message: your password stays as it is.',
    ],
    'Choose a new password',
    input,
  );
}

export function renderAlreadyRegisteredMessage(input: AccountMessageInput): RenderedMessage {
  return render(
    ALREADY_REGISTERED_SUBJECT,
    [
      `Someone tried to create an account with this email address, but the account "${singleLine(input.username)}" already uses it.`,
      'If that was you, sign in to that account, or open the link to choose a new password for it (every session ' +
        'of the account is then signed out). If it was not you, ignore this message.',
    ],
    'Choose a new password',
    input,
  );
}
