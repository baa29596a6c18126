import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { assertPublicUrl, publicOnlyLookup, RefusedAddress } from './url-guard.ts';
import { signatureHeader } from './signature.ts';

export interface WebhookMessage {
  url: string;
  /** The secrets in force, newest first: each signs the message. */
  secrets: string[];
  /** `webhook-id`: the event's id, the same on every attempt. */
  id: string;
  body: string;
}

export type SendOutcome =
  | { kind: 'delivered'; status: number; responseBody: string; durationMs: number }
  | { kind: 'gone'; status: 410; responseBody: string; durationMs: number }
  | { kind: 'failed'; status: number | null; error: string | null; retryAfterMs: number | null; responseBody: string | null; durationMs: number };

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborted when the service stops: the attempt is dropped unrecorded, and its lease lets another instance retry it. */
  signal: AbortSignal;
}

const RESPONSE_BODY_BYTES = 1024;
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * One attempt: a POST of the signed event, answered within `timeoutMs` or counted as failed.
 * Redirects are not followed (a 3xx is a failure): a redirect could lead to an address the
 * guard never saw. Throws only when `signal` aborts.
 */
export async function sendWebhook(message: WebhookMessage, options: SendOptions): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(message.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    try {
      await assertPublicUrl(message.url, options.allowPrivate);
    } catch (error) {
      return { kind: 'failed', status: null, error: (error as Error).message, retryAfterMs: null, responseBody: null, durationMs: elapsed() };
    }
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  const transport = url.protocol === 'https:' ? https : http;
  const lookup = publicOnlyLookup(options.allowPrivate);
  const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | { error: Error }>((resolve) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        signal,
        ...(lookup && { lookup }),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(message.body),
          'user-agent': 'tenant-authz-webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(message.secrets, message.id, timestamp, message.body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept >= RESPONSE_BODY_BYTES) return;
          chunks.push(chunk);
          kept += chunk.length;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_BODY_BYTES) }),
        );
        response.on('error', (error) => resolve({ error }));
      },
    );
    request.on('error', (error) => resolve({ error }));
    request.end(message.body);
  });
  if (options.signal.aborted) throw options.signal.reason;
  if ('error' in answer) {
    const error = timeout.aborted ? `no answer within ${options.timeoutMs} ms` : describe(answer.error);
    return { kind: 'failed', status: null, error, retryAfterMs: null, responseBody: null, durationMs: elapsed() };
  }
  if (answer.status >= 200 && answer.status < 300) return { kind: 'delivered', status: answer.status, responseBody: answer.body, durationMs: elapsed() };
  if (answer.status === 410) return { kind: 'gone', status: 410, responseBody: answer.body, durationMs: elapsed() };
  return {
    kind: 'failed',
    status: answer.status,
    error: null,
    retryAfterMs: retryAfterMs(answer.headers['retry-after']),
    responseBody: answer.body,
    durationMs: elapsed(),
  };
}

function describe(error: Error): string {
  if (error instanceof RefusedAddress) return error.message;
  const code = (error as { code?: string }).code;
  return code ? `${code}: ${error.message}` : error.message;
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now (at most a day); null when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  const milliseconds = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (Number.isNaN(milliseconds)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, milliseconds));
}
