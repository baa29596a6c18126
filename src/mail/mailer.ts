import nodemailer from 'nodemailer';
import type { Logger } from '../observability/logger.ts';
import { singleLine } from './invitation-message.ts';

export interface OutgoingMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** What became of a message handed over: an SMTP server took it, or, without SMTP_URL, it was only logged. */
export type Handover = 'sent' | 'logged';

/** Hands a message to whatever delivers mail; throws when it could not. */
export interface Mailer {
  readonly mode: 'smtp' | 'log';
  send(message: OutgoingMessage): Promise<Handover>;
  close(): void;
}

/** SMTP through nodemailer (STARTTLS when the server offers it), or, without SMTP_URL, a log line. */
export function createMailer(config: { smtpUrl: string | undefined; from: string }, logger: Logger): Mailer {
  if (!config.smtpUrl) return logMailer(logger);
  const transport = nodemailer.createTransport(config.smtpUrl);
  return {
    mode: 'smtp',
    async send(message) {
      // Addresses go as objects, never as header text: nodemailer encodes and validates them.
      await transport.sendMail({
        from: config.from,
        to: { name: '', address: message.to },
        subject: singleLine(message.subject),
        text: message.text,
        html: message.html,
      });
      return 'sent';
    },
    close: () => transport.close(),
  };
}

function logMailer(logger: Logger): Mailer {
  return {
    mode: 'log',
    async send(message) {
      logger.info({ mail: { to: message.to, subject: message.subject, text: message.text } }, `mail to ${message.to} (SMTP_URL unset: logged, not sent)`);
      return 'logged';
    },
    close: () => undefined,
  };
}
