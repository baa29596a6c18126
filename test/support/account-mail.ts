import type { TestMailbox } from './smtp.ts';
import { linkIn } from './smtp.ts';
import type { TestService } from './test-service.ts';

/** The token of the newest mail to `email` (from message `after` on) with a link to `page`, waiting for it. */
export async function mailedToken(mailbox: TestMailbox, email: string, page: 'verify-email' | 'reset-password', after = 0): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = mailbox.messages
      .slice(after)
      .filter((mail) => mail.envelopeTo.includes(email.toLowerCase()) && (mail.text ?? '').includes(`/${page}/`))
      .at(-1);
    if (found) return linkIn(found, page).token;
    if (Date.now() > deadline) throw new Error(`no ${page} mail to ${email}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Moves the account's mailed tokens back in time, so the cooldown (and, far enough, their life) has passed. */
export async function ageMailedTokens(service: TestService, userId: string, seconds: number): Promise<void> {
  await service.orm.em
    .fork()
    .getConnection()
    .execute(`update email_tokens set created_at = created_at - (? * interval '1 second'), expires_at = expires_at - (? * interval '1 second') where user_id = ?`, [
      seconds,
      seconds,
      userId,
    ]);
}
