import type { Context } from 'koa';
import { ValidationFailed } from '../errors.ts';
import { loginBody, signupBody } from '../routes/auth/schema.ts';
import type { IdentityService } from '../services/identity.service.ts';
import type { InvitationAnswerService, InvitationPreview } from '../services/invitation-answer.service.ts';
import { csrfToken, explain, parseFields } from './forms.ts';
import { field, html, layout, notice, type Html } from './html.ts';
import { linkGonePage } from './link-gone.ts';
import { sendPage } from './respond.ts';

/**
 * `/invitations/{token}`: who invited the person to what, and forms to sign up or sign in and
 * accept or decline. Each form goes through the same services as the JSON API; the page keeps no
 * session (the person signs in to the app afterwards).
 */
export class InvitationPage {
  private readonly identity: IdentityService;
  private readonly answers: InvitationAnswerService;

  constructor(identity: IdentityService, answers: InvitationAnswerService) {
    this.identity = identity;
    this.answers = answers;
  }

  async show(ctx: Context, token: string): Promise<void> {
    const preview = await this.preview(ctx, token);
    if (preview) sendPage(ctx, 200, this.render(ctx, preview, null));
  }

  async submit(ctx: Context, token: string, fields: URLSearchParams): Promise<void> {
    const preview = await this.preview(ctx, token);
    if (!preview) return;
    const client = { address: ctx.ip };
    try {
      const action = fields.get('action');
      if (action === 'signup') {
        const input = parseFields(signupBody, { username: fields.get('username') ?? '', email: fields.get('email') ?? '', password: fields.get('password') ?? '' });
        const signedIn = await this.identity.signup({ username: input.username, email: input.email, password: input.password }, client);
        const joined = await this.answers.acceptOnSignup(signedIn.user.id, token);
        return sendPage(ctx, joined ? 200 : 409, joined ? joinedPage(preview) : createdElsewherePage(preview));
      }
      if (action !== 'accept' && action !== 'decline') throw new ValidationFailed([{ field: 'body.action', message: 'must be signup, accept or decline' }]);
      const credentials = parseFields(loginBody, { email: fields.get('email') ?? '', password: fields.get('password') ?? '' });
      const { user } = await this.identity.confirmPassword(credentials, client);
      if (action === 'decline') {
        await this.answers.decline(user.id, token);
        return sendPage(ctx, 200, layout('Invitation declined', html`<p>You declined the invitation to <strong>${preview.organizationName}</strong>. Nothing else changed.</p>`));
      }
      await this.answers.accept(user.id, token);
      sendPage(ctx, 200, joinedPage(preview));
    } catch (error) {
      const explained = explain(error);
      if (!explained) throw error;
      if (explained.status === 404) return sendPage(ctx, 404, linkGonePage('invitation'));
      sendPage(ctx, explained.status, this.render(ctx, preview, notice('error', explained.lines), fields));
    }
  }

  /** The preview, or the "expired or used" page already sent (null). */
  private async preview(ctx: Context, token: string): Promise<InvitationPreview | null> {
    try {
      return await this.answers.preview(token);
    } catch (error) {
      if (explain(error)?.status !== 404) throw error;
      sendPage(ctx, 404, linkGonePage('invitation'));
      return null;
    }
  }

  private render(ctx: Context, preview: InvitationPreview, message: Html | null, posted?: URLSearchParams): string {
    const csrf = csrfToken(ctx);
    const typed = (name: string) => (posted?.get('action') === 'signup' || name === 'email' ? (posted?.get(name) ?? '') : '');
    return layout(
      `Join ${preview.organizationName}`,
      html`${message}
<p><strong>${preview.inviterUsername}</strong> invited <strong>${preview.maskedEmail}</strong> to join the organization <strong>${preview.organizationName}</strong>.</p>
${offer(preview)}
<h2>New here? Create an account</h2>
<p class="muted">Use the address this invitation was sent to; the invitation is accepted with the new account.</p>
<form method="post">
<input type="hidden" name="_csrf" value="${csrf}">
${field('username', 'Username (3 to 32 of a-z, 0-9, _ . -)', 'text', 'username', typed('username'))}
${field('email', 'Email', 'email', 'email', typed('email'))}
${field('password', 'Password', 'password', 'new-password')}
<div class="buttons"><button type="submit" name="action" value="signup" class="primary">Sign up and accept</button></div>
</form>
<h2>Already have an account?</h2>
<form method="post">
<input type="hidden" name="_csrf" value="${csrf}">
${field('email', 'Email', 'email', 'email', typed('email'))}
${field('password', 'Password', 'password', 'current-password')}
<div class="buttons">
<button type="submit" name="action" value="accept" class="primary">Sign in and accept</button>
<button type="submit" name="action" value="decline" class="secondary">Sign in and decline</button>
</div>
</form>`,
    );
  }
}

/** What accepting gives: the organization role and each workspace role (and, before accepting, until when). */
function offer(preview: InvitationPreview, open = true): Html {
  const workspaces =
    preview.workspaces.length === 0
      ? html`<dd>None besides the organization's default</dd>`
      : html`<dd><ul class="roles">${preview.workspaces.map((workspace) => html`<li>${workspace.name}: ${workspace.role}</li>`)}</ul></dd>`;
  return html`<dl>
<dt>Organization</dt><dd>${preview.organizationName}</dd>
<dt>Role</dt><dd>${preview.role}</dd>
<dt>Workspaces</dt>${workspaces}
<dt>Invited by</dt><dd>${preview.inviterUsername}</dd>
${open && html`<dt>Expires</dt><dd>${preview.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC</dd>`}
</dl>`;
}

function joinedPage(preview: InvitationPreview): string {
  return layout(
    `You joined ${preview.organizationName}`,
    html`<div class="notice success" role="status"><p>You are now a member of <strong>${preview.organizationName}</strong> as ${preview.role}.</p></div>
${offer(preview, false)}
<p>Sign in to the app to start working there.</p>`,
  );
}

function createdElsewherePage(preview: InvitationPreview): string {
  return layout(
    'Account created',
    html`<div class="notice error" role="alert"><p>Your account was created, but this invitation was sent to another address (${preview.maskedEmail}), so it was not accepted.</p></div>
<p>Ask whoever invited you to invite the address you signed up with.</p>`,
  );
}
