/** What an invitation message says; rendered once, when the invitation is written, into the mail outbox. */
export interface InvitationMessageInput {
  organizationName: string;
  inviterName: string;
  role: string;
  link: string;
  expiresAt: Date;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

/**
 * Control characters (CR, LF, NUL, ...) become spaces: a name can never start a new header line,
 * whatever the transport does. Header values are also encoded by nodemailer; this is the first wall.
 */
export function singleLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The subject is fixed: names are chosen by whoever signs up or creates an organization, and a
 * subject is what a mail client shows unopened, so it would carry an attacker's text ("Your account
 * is locked: call ...") to anyone whose address they know. In the body the names are quoted.
 */
export const INVITATION_SUBJECT = 'You are invited to join an organization';

export function renderInvitationMessage(input: InvitationMessageInput): RenderedMessage {
  const organization = singleLine(input.organizationName);
  const inviter = singleLine(input.inviterName);
  const expires = input.expiresAt.toISOString();
  const subject = INVITATION_SUBJECT;
  const text = [
    `${inviter} invited you to join the organization "${organization}" as ${input.role}.`,
    '',
    `See who invited you to what, then accept or decline: ${input.link}`,
    '',
    `The invitation expires at ${expires}. If you did not expect it, ignore this message.`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body>',
    `<p>${escapeHtml(inviter)} invited you to join the organization <strong>${escapeHtml(organization)}</strong> as ${escapeHtml(input.role)}.</p>`,
    `<p><a href="${escapeHtml(input.link)}">See the invitation, then accept or decline it</a></p>`,
    `<p>The invitation expires at ${escapeHtml(expires)}. If you did not expect it, ignore this message.</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}
