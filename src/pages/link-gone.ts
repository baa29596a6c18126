import { html, layout } from './html.ts';

const WHAT: Record<'invitation' | 'verification' | 'reset', string> = {
  invitation: 'Ask whoever invited you to send the invitation again.',
  verification: 'Sign in and ask for a new verification mail.',
  reset: 'Ask for a new password reset mail.',
};

/** One page for an unknown, used or expired link of any kind: which of them it was is not said. */
export function linkGonePage(kind: keyof typeof WHAT): string {
  return layout(
    'This link no longer works',
    html`<p>The link has expired or was already used. Each link we mail works once, for a limited time.</p>
<p>${WHAT[kind]}</p>`,
  );
}

/** A form post that did not come from this page (another site, or a page kept open too long). */
export function staleFormPage(): string {
  return layout('Please try again', html`<p>This form could not be accepted. Go back, reload the page and submit it again.</p>`);
}
