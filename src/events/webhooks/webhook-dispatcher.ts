import { PollLoop } from '../../background/poll-loop.ts';
import type { EventsConfig } from '../../config.ts';
import type { Orm } from '../../db/orm.ts';
import type { Logger } from '../../observability/logger.ts';
import { FeedFollower } from '../feed-follower.ts';
import { WebhookDeliveries } from './webhook-deliveries.ts';
import { fanOut } from './webhook-fan-out.ts';

const FAN_OUT_BATCH = 500;

/**
 * Webhooks in the running service: the fan-out follows the feed and queues deliveries; the
 * deliveries loop sends what is due. Every instance runs both: the fan-out's lock lets one
 * follow the feed at a time, and deliveries are claimed SKIP LOCKED, so they share the work.
 */
export class WebhookDispatcher {
  private readonly follower: FeedFollower;
  private readonly deliveries: WebhookDeliveries;
  private readonly fanOutLoop: PollLoop;
  private readonly deliveryLoop: PollLoop;

  constructor(orm: Orm, logger: Logger, config: EventsConfig) {
    this.follower = new FeedFollower(orm, logger, { sink: 'webhooks', batchSize: FAN_OUT_BATCH, handle: fanOut });
    this.deliveries = new WebhookDeliveries(orm, logger, config.webhooks, () => this.deliveryLoop.kick());
    this.fanOutLoop = new PollLoop({
      name: 'webhook fan-out',
      intervalMs: config.pollMs,
      logger,
      cycle: async () => {
        const outcome = await this.follower.cycle();
        this.deliveryLoop.kick();
        return outcome;
      },
    });
    this.deliveryLoop = new PollLoop({ name: 'webhook deliveries', intervalMs: config.pollMs, logger, cycle: () => this.deliveries.cycle() });
  }

  async start(): Promise<void> {
    await this.follower.ensureSink();
    this.fanOutLoop.start();
    this.deliveryLoop.start();
  }

  /** A delivery was queued outside the fan-out (a resend): send it now. */
  kick(): void {
    this.deliveryLoop.kick();
  }

  async stop(): Promise<void> {
    await this.fanOutLoop.stop();
    await this.deliveryLoop.stop();
    await this.deliveries.stop();
  }
}
