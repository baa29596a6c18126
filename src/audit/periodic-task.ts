import type { Logger } from '../observability/logger.ts';

/**
 * A background job of the running service: once at start (in the background, so a long first run
 * does not delay boot), then every `intervalMs`; a run still going when the next is due is not
 * doubled. A failed run is logged and the next one tries again. Instances may all run it: the
 * job itself must be safe to run twice.
 */
export class PeriodicTask {
  private readonly run: () => Promise<void>;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private readonly failure: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(run: () => Promise<void>, options: { intervalMs: number; logger: Logger; failure: string }) {
    this.run = run;
    this.intervalMs = options.intervalMs;
    this.logger = options.logger;
    this.failure = options.failure;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): Promise<void> {
    this.running ??= this.run()
      .catch((error: unknown) => this.logger.error({ err: error }, this.failure))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
