import type { Logger } from '../observability/logger.ts';

/** What one cycle found: `more` runs the next cycle at once (a full batch), `idle` waits the interval. */
export type CycleOutcome = 'more' | 'idle';

export interface PollLoopOptions {
  /** Names the loop in log lines. */
  name: string;
  intervalMs: number;
  /** One pass over the work that is due. A throw is logged and retried after a growing delay. */
  cycle: () => Promise<CycleOutcome>;
  logger: Logger;
  /** The first delay after a failed cycle; it doubles per failure up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A background loop that polls Postgres for due work, shared by every queue that several
 * instances drain together (each claims its own rows, so the loops need no coordination here):
 * one cycle at a time, at once again after a full batch or a kick, every `intervalMs` when idle,
 * with a doubling delay while cycles fail (the store or the destination is down), and a stop
 * that waits for the cycle in progress. Its timer never keeps the process alive.
 */
export class PollLoop {
  private readonly options: Required<PollLoopOptions>;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private kicked = false;
  private failures = 0;

  constructor(options: PollLoopOptions) {
    this.options = { baseBackoffMs: 250, maxBackoffMs: 5_000, ...options };
  }

  /**
   * A periodic job rather than a queue: `run` at start, then every `intervalMs`; a failed run is
   * retried after a minute at first, never later than the next interval.
   */
  static every(name: string, intervalMs: number, logger: Logger, run: () => Promise<void>): PollLoop {
    return new PollLoop({
      name,
      intervalMs,
      logger,
      baseBackoffMs: Math.min(60_000, intervalMs),
      maxBackoffMs: intervalMs,
      cycle: async () => {
        await run();
        return 'idle';
      },
    });
  }

  /** Runs the first cycle now. Calling it while started does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops scheduling and waits for a cycle in progress. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    await this.running;
    clearTimeout(this.timer);
  }

  /** New work is there: run a cycle now, or right after the one in progress. */
  kick(): void {
    if (!this.started) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.runCycle().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runCycle(): Promise<void> {
    this.kicked = false;
    let delayMs = this.options.intervalMs;
    try {
      const outcome = await this.options.cycle();
      this.failures = 0;
      if (outcome === 'more') delayMs = 0;
    } catch (error) {
      this.failures += 1;
      delayMs = Math.min(this.options.maxBackoffMs, this.options.baseBackoffMs * 2 ** (this.failures - 1));
      this.options.logger.warn({ err: error, loop: this.options.name, retryInMs: delayMs }, `${this.options.name} cycle failed`);
    }
    if (this.kicked && this.failures === 0) delayMs = 0;
    if (this.started) this.schedule(delayMs);
  }
}
