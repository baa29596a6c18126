import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { FreshnessFloor } from './freshness.ts';

const CHANNEL = 'tenant_authz_spicedb_writes';
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * Carries the read-your-writes floor between instances through Postgres LISTEN/NOTIFY. Every
 * SpiceDB write an instance makes is announced before the write's caller gets its answer; an
 * instance that hears another's announcement stops trusting its own floor until a fully
 * consistent read settles it again. While the connection is down the instance cannot hear, so
 * every default read is fully consistent: slower, never stale.
 *
 * One dedicated connection both listens and announces, so announcing never waits for the pool
 * that a transaction holding an organization's lock may be using.
 */
export class FloorChannel {
  private readonly instance = randomUUID();
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastAnnouncement: Promise<void> = Promise.resolve();

  private readonly databaseUrl: string;
  private readonly floor: FreshnessFloor;
  private readonly metrics: Metrics;
  private readonly logger: Logger;

  private constructor(databaseUrl: string, floor: FreshnessFloor, metrics: Metrics, logger: Logger) {
    this.databaseUrl = databaseUrl;
    this.floor = floor;
    this.metrics = metrics;
    this.logger = logger;
  }

  static async open(databaseUrl: string, floor: FreshnessFloor, metrics: Metrics, logger: Logger): Promise<FloorChannel> {
    const channel = new FloorChannel(databaseUrl, floor, metrics, logger);
    floor.onAcknowledged(() => channel.announce());
    await channel.connect();
    return channel;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => this.heard(message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
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
    // Announcements may have been missed while deaf: the next default read is fully consistent.
    this.floor.observedElsewhere();
    this.floor.channelUp();
    this.metrics.floorChannelUp.set(1);
  }

  /**
   * Resolves once Postgres has taken the announcement; a failure is logged, never thrown at the
   * write. Announcements queue on the one connection, which runs one query at a time.
   */
  private announce(): Promise<void> {
    const announced = this.lastAnnouncement.then(async () => {
      const client = this.client;
      if (!client) return;
      try {
        await client.query('select pg_notify($1, $2)', [CHANNEL, `${this.instance} ${Date.now()}`]);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not announce a SpiceDB write to the other instances');
      }
    });
    this.lastAnnouncement = announced;
    return announced;
  }

  private heard(payload: string): void {
    const [instance, sentAt] = payload.split(' ');
    if (instance === this.instance) return;
    this.floor.observedElsewhere();
    const sentAtMs = Number(sentAt);
    if (Number.isFinite(sentAtMs)) this.metrics.floorPropagation.observe(Math.max(0, Date.now() - sentAtMs) / 1000);
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.floor.channelDown();
    this.metrics.floorChannelUp.set(0);
    client.end().catch(() => {});
    if (this.closed) return;
    this.logger.warn({ err: error }, 'lost the channel to the other instances; default reads are fully consistent until it is back');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delayMs = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.failures++);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'reconnecting the channel to the other instances failed');
        if (!this.closed) this.scheduleReconnect();
      });
    }, delayMs);
  }
}
