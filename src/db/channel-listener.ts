import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 5_000;

export interface ChannelOptions {
  databaseUrl: string;
  /** The Postgres NOTIFY channel. */
  channel: string;
  /** Names the connection in pg_stat_activity and in log lines. */
  applicationName: string;
  logger: Logger;
  onMessage(payload: string): void;
  /**
   * The connection listens: catch up on what was missed while it did not (it runs after LISTEN,
   * so nothing falls between). A failure here counts as a failed connection.
   */
  onUp(connection: pg.Client): Promise<void> | void;
  /** The connection is gone; it comes back by itself, with backoff. */
  onDown(): void;
}

/**
 * One dedicated Postgres connection that LISTENs on a channel, for state every instance must
 * share (the read-your-writes floor, ended sessions). It reconnects with backoff on its own; its
 * owner decides what to do while it is down. Never a pool connection: a listener holds its
 * connection for good, and a NOTIFY sent on it never waits behind a transaction.
 */
export class ChannelListener {
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  private readonly options: ChannelOptions;

  private constructor(options: ChannelOptions) {
    this.options = options;
  }

  static async open(options: ChannelOptions): Promise<ChannelListener> {
    const listener = new ChannelListener(options);
    await listener.connect();
    return listener;
  }

  /** The listening connection while it is up; null while it is down. */
  get connection(): pg.Client | null {
    return this.client;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const { databaseUrl, channel, applicationName } = this.options;
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000, application_name: applicationName });
    client.on('notification', (message) => this.options.onMessage(message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      await this.options.onUp(client);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
    this.failures = 0;
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.options.onDown();
    client.end().catch(() => {});
    if (this.closed) return;
    this.options.logger.warn({ err: error }, `lost the ${this.options.applicationName} channel; reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delayMs = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.failures++);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.options.logger.warn({ err: error }, `reconnecting the ${this.options.applicationName} channel failed`);
        if (!this.closed) this.scheduleReconnect();
      });
    }, delayMs);
  }
}
