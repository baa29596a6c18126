import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ChannelListener } from '../db/channel-listener.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { FreshnessFloor } from './freshness.ts';
import { decodeReach, encodeReach, WHOLE_GRAPH, type WriteReach } from './write-reach.ts';

const CHANNEL = 'tenant_authz_spicedb_writes';
// What the announcing instance's own schema lets time do (FreshnessFloor.ownSchemaTimeOnlyRevokes).
const TIME_ONLY_REVOKES = 'time-only-revokes';
const TIME_MAY_GRANT = 'time-may-grant';

/**
 * Carries the read-your-writes floor between instances through Postgres LISTEN/NOTIFY. Every
 * SpiceDB write an instance makes is announced, with its reach (the objects it wrote, or the
 * whole graph) and whether its schema lets time only revoke, before the write's caller gets its
 * answer; an instance that hears another's announcement stops trusting its floor for what the
 * write reached until a fully consistent read settles it again. While the connection is down the
 * instance cannot hear, so every default read is fully consistent: slower, never stale.
 *
 * The listening connection also announces, so announcing never waits for the pool that a
 * transaction holding an organization's lock may be using.
 */
export class FloorChannel {
  private readonly instance = randomUUID();
  private lastAnnouncement: Promise<void> = Promise.resolve();
  private listener: ChannelListener | undefined;

  private readonly floor: FreshnessFloor;
  private readonly metrics: Metrics;
  private readonly logger: Logger;

  private constructor(floor: FreshnessFloor, metrics: Metrics, logger: Logger) {
    this.floor = floor;
    this.metrics = metrics;
    this.logger = logger;
  }

  static async open(databaseUrl: string, floor: FreshnessFloor, metrics: Metrics, logger: Logger): Promise<FloorChannel> {
    const channel = new FloorChannel(floor, metrics, logger);
    channel.listener = await ChannelListener.open({
      databaseUrl,
      channel: CHANNEL,
      applicationName: 'tenant-authz read-your-writes floor',
      logger,
      onMessage: (payload) => channel.heard(payload),
      onUp: async (connection) => {
        // Announcements may have been missed while deaf: the next default read is fully consistent.
        floor.observedElsewhere(WHOLE_GRAPH);
        floor.channelUp();
        metrics.floorChannelUp.set(1);
        // And this instance's own writes in the meantime went unannounced: nobody may trust what they hold.
        await channel.notify(connection, WHOLE_GRAPH);
      },
      onDown: () => {
        floor.channelDown();
        metrics.floorChannelUp.set(0);
      },
    });
    floor.onAcknowledged((_token, reach) => channel.announce(reach));
    return channel;
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  /**
   * Resolves once Postgres has taken the announcement; a failure is logged, never thrown at the
   * write. Announcements queue on the one connection, which runs one query at a time.
   */
  private announce(reach: WriteReach): Promise<void> {
    const announced = this.lastAnnouncement.then(async () => {
      const connection = this.listener?.connection;
      if (!connection) return;
      try {
        await this.notify(connection, reach);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not announce a SpiceDB write to the other instances');
      }
    });
    this.lastAnnouncement = announced;
    return announced;
  }

  private async notify(connection: pg.Client, reach: WriteReach): Promise<void> {
    // Nothing is said of a schema not yet written (an instance's channel comes up before it writes one).
    const own = this.floor.ownSchemaTimeOnlyRevokes();
    const schema = own === undefined ? '' : ` ${own ? TIME_ONLY_REVOKES : TIME_MAY_GRANT}`;
    await connection.query('select pg_notify($1, $2)', [CHANNEL, `${this.instance} ${Date.now()} ${encodeReach(reach)}${schema}`]);
  }

  private heard(payload: string): void {
    const [instance, sentAt, reach, schema] = payload.split(' ');
    if (instance === this.instance) return;
    // Unsaid (an instance that has not written its schema yet, or predates this field): unknown;
    // a word this version does not know: may grant.
    this.floor.observedElsewhere(decodeReach(reach), schema === undefined ? undefined : schema !== TIME_ONLY_REVOKES);
    const sentAtMs = Number(sentAt);
    if (Number.isFinite(sentAtMs)) this.metrics.floorPropagation.observe(Math.max(0, Date.now() - sentAtMs) / 1000);
  }
}
