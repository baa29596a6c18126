import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { eventually } from './eventually.ts';
import type { EventBody } from './events.ts';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The raw body, as a verifier must see it. */
  body: string;
  event: EventBody;
  receivedAt: number;
}

/** What the receiver answers; the default is 204. */
export type Answer = { status: number; headers?: Record<string, string>; delayMs?: number };

/**
 * A real HTTP server on 127.0.0.1 that records every webhook it receives and answers as told.
 * It can go down and come back on the same port (`down()`, `up()`), as a receiver that is
 * redeployed does.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (webhook: ReceivedWebhook) => Answer = () => ({ status: 204 });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const webhook = { headers: request.headers, body, event: JSON.parse(body) as EventBody, receivedAt: Date.now() };
        this.received.push(webhook);
        this.reply(response, this.answer(webhook));
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Refuses connections from now on (open ones are cut), until up(). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }

  /** The webhooks received with this webhook-id. */
  withId(id: string): ReceivedWebhook[] {
    return this.received.filter((webhook) => webhook.headers['webhook-id'] === id);
  }

  /** Waits until `done` holds for what was received; throws after the timeout. */
  async until(done: (received: ReceivedWebhook[]) => boolean, timeoutMs = 20_000): Promise<ReceivedWebhook[]> {
    if (!(await eventually(async () => done(this.received), timeoutMs))) {
      throw new Error(`the receiver never got what was awaited; it had ${this.received.map((webhook) => webhook.event.type).join(', ')}`);
    }
    return this.received;
  }

  private reply(response: ServerResponse, answer: Answer): void {
    const send = () => {
      if (response.destroyed) return;
      response.writeHead(answer.status, answer.headers).end();
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  }
}

/** The standard headers of a received webhook, as the verifiers take them. */
export function webhookHeaders(webhook: ReceivedWebhook): Record<string, string> {
  return {
    'webhook-id': String(webhook.headers['webhook-id']),
    'webhook-timestamp': String(webhook.headers['webhook-timestamp']),
    'webhook-signature': String(webhook.headers['webhook-signature']),
  };
}
