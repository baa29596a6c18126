import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message as the server received it: parsed, with the envelope's recipients (RCPT TO). */
export type ReceivedMail = ParsedMail & { envelopeTo: string[] };

/** A real SMTP server in this process: what the service sends, parsed. */
export interface TestMailbox {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** RCPT TO commands refused while `refuse(true)` was in force. */
  refusals: number;
  /** The newest message to this address, with this subject if one is given (waits up to timeoutMs for it). */
  waitFor(to: string, options?: { timeoutMs?: number; after?: number; subject?: string }): Promise<ReceivedMail>;
  /** While on, the server answers every recipient 451 (the server is up but will not take mail). */
  refuse(on: boolean): void;
  /** Stops listening (an outage); `restart` listens on the same port again. */
  close(): Promise<void>;
  restart(): Promise<void>;
}

export async function startMailbox(port = 0): Promise<TestMailbox> {
  const messages: ReceivedMail[] = [];
  let refusing = false;
  const mailbox = {
    refusals: 0,
  };
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        if (!refusing) return callback();
        mailbox.refusals += 1;
        callback(Object.assign(new Error('Mailbox temporarily unavailable'), { responseCode: 451 }));
      },
      onData(stream, session, callback) {
        const envelopeTo = session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase());
        simpleParser(stream)
          .then((mail) => {
            messages.push(Object.assign(mail, { envelopeTo }));
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
  let server = make();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.server.address() as AddressInfo).port;
  const recipients = (mail: ParsedMail) =>
    [mail.to ?? []].flat().flatMap((address) => address.value.map((value) => (value.address ?? '').toLowerCase()));
  return Object.assign(mailbox, {
    url: `smtp://127.0.0.1:${bound}`,
    port: bound,
    messages,
    async waitFor(to: string, { timeoutMs = 15_000, after = 0, subject }: { timeoutMs?: number; after?: number; subject?: string } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages
          .slice(after)
          .filter((mail) => recipients(mail).includes(to.toLowerCase()) && (subject === undefined || mail.subject === subject))
          .at(-1);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    refuse(on: boolean) {
      refusing = on;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async restart() {
      server = make();
      await new Promise<void>((resolve) => server.listen(bound, '127.0.0.1', resolve));
    },
  });
}

/** The invitation token in a message's link. */
export function tokenIn(mail: ParsedMail): string {
  return linkIn(mail, 'invitations').token;
}

/** The link of a message to one of the pages (`invitations`, `verify-email`, `reset-password`), and its token. */
export function linkIn(mail: ParsedMail, page: 'invitations' | 'verify-email' | 'reset-password'): { url: string; token: string } {
  const match = new RegExp(`(https?://\\S+/${page}/([A-Za-z0-9_-]{20,}))`).exec(mail.text ?? '');
  if (!match?.[1] || !match[2]) throw new Error(`no ${page} link in: ${mail.text ?? ''}`);
  return { url: match[1], token: match[2] };
}
