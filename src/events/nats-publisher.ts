import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { PollLoop } from '../background/poll-loop.ts';
import type { EventsConfig } from '../config.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import type { FeedEvent } from './event-feed.ts';
import { eventWireForm } from './event-log.ts';
import { FeedFollower, type Handled } from './feed-follower.ts';

type NatsConfig = NonNullable<EventsConfig['nats']>;

const BATCH_SIZE = 200;
const PUBLISH_TIMEOUT_MS = 5_000;
// JetStream's default: a message id seen within it is dropped as a duplicate.
const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** `<prefix>.<organization id, or "global">.<type>`: consumers filter by organization, by type, or both. */
export function subjectOf(prefix: string, event: Pick<FeedEvent, 'organizationId' | 'type'>): string {
  return `${prefix}.${event.organizationId ?? 'global'}.${event.type}`;
}

/**
 * Publishes every event to a JetStream stream (EVENTS_NATS_URL) from the feed itself, in the
 * order of each organization's changes: one instance at a time follows the `nats` sink
 * (FeedFollower), publishes a batch, and moves its cursor past what was acknowledged. While NATS is out of reach nothing moves and the loop backs off; events wait in
 * Postgres and go out in order when it is back. `Nats-Msg-Id` is the event id, so an event
 * published again (a crash before the cursor moved, a lost acknowledgement) is dropped by the
 * stream within its duplicate window.
 */
export class NatsPublisher {
  private connection: NatsConnection | null = null;
  private client: JetStreamClient | null = null;
  private readonly follower: FeedFollower;
  private readonly loop: PollLoop;

  private readonly config: NatsConfig;
  private readonly retentionDays: number;
  private readonly logger: Logger;

  constructor(orm: Orm, logger: Logger, events: EventsConfig & { nats: NatsConfig }) {
    this.config = events.nats;
    this.retentionDays = events.retentionDays;
    this.logger = logger;
    this.follower = new FeedFollower(orm, logger, { sink: 'nats', batchSize: BATCH_SIZE, handle: (batch) => this.publish(batch) });
    this.loop = new PollLoop({
      name: 'JetStream publisher',
      intervalMs: events.pollMs,
      logger,
      maxBackoffMs: 5_000,
      cycle: async () => {
        await this.jetStream();
        return this.follower.cycle();
      },
    });
  }

  /** The sink starts at the feed's newest event: a new stream receives what happens from now on. */
  async start(): Promise<void> {
    await this.follower.ensureSink();
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.connection?.close().catch(() => {});
  }

  /**
   * Each organization's events one after another, each acknowledged before the next, so a
   * failure cannot let a later event of the organization into the stream before an earlier one;
   * organizations side by side. On a failure the cursor stops before the first event (in feed
   * order) that was not acknowledged: what other organizations had past it is published again
   * next time and dropped by the stream as a duplicate.
   */
  private async publish(events: FeedEvent[]): Promise<Handled> {
    const client = await this.jetStream();
    const failedAt = new Map<number, unknown>();
    const byOrganization = new Map<string | null, number[]>();
    events.forEach((event, index) => byOrganization.set(event.organizationId, [...(byOrganization.get(event.organizationId) ?? []), index]));
    await Promise.all(
      [...byOrganization.values()].map(async (indexes) => {
        for (const index of indexes) {
          const event = events[index] as FeedEvent;
          try {
            await client.publish(subjectOf(this.config.subjectPrefix, event), JSON.stringify(eventWireForm(event)), {
              msgID: event.id,
              timeout: PUBLISH_TIMEOUT_MS,
            });
          } catch (failure) {
            failedAt.set(index, failure);
            return;
          }
        }
      }),
    );
    if (failedAt.size === 0) return { done: events.length };
    const first = Math.min(...failedAt.keys());
    return { done: first, failure: failedAt.get(first) };
  }

  /**
   * The JetStream client, connecting (and creating the stream if it is missing) first if there is
   * none. Once connected, the NATS client reconnects by itself, forever.
   */
  private async jetStream(): Promise<JetStreamClient> {
    if (this.client && this.connection && !this.connection.isClosed()) return this.client;
    const connection = await connect({
      servers: this.config.url,
      name: 'tenant-authz events',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 2_000,
    });
    try {
      await this.ensureStream(connection);
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
    this.connection = connection;
    this.client = jetstream(connection, { timeout: PUBLISH_TIMEOUT_MS });
    this.logger.info({ stream: this.config.stream }, 'publishing events to NATS JetStream');
    return this.client;
  }

  /** Creates the stream if it does not exist; an existing one is left as its operator set it up. */
  private async ensureStream(connection: NatsConnection): Promise<void> {
    const manager = await jetstreamManager(connection);
    try {
      await manager.streams.info(this.config.stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await manager.streams.add({
        name: this.config.stream,
        subjects: [`${this.config.subjectPrefix}.>`],
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        max_age: nanos(this.retentionDays * 86_400_000),
      });
    }
  }
}
