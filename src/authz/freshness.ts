import type { Consistency, ZedToken } from './types.ts';

type Resolved = Extract<Consistency, { kind: 'fully_consistent' | 'at_least_as_fresh' }>;

/**
 * The read-your-writes floor: the consistency that makes a read see every relationship write
 * acknowledged before it was sent, by this instance or (once told, see FloorChannel) by another.
 *
 * ZedTokens are opaque and, on SpiceDB's Postgres datastore, only partially ordered, so the floor
 * never compares two of them. It holds a token only while that token is known to be the newest:
 * a write that began after the floor last moved was acknowledged at a revision that includes
 * everything the floor covered. When two writes overlap, or another instance reports one, nothing
 * says which is newer: the floor becomes unknown and the next read asks `fully_consistent`,
 * whose answer (taken after every acknowledged write) becomes the floor again. In steady state
 * the floor is older than the revision SpiceDB's quantization picks anyway, so asking
 * `at_least_as_fresh(floor)` costs nothing.
 */
export class FreshnessFloor {
  private token: ZedToken | null = null;
  /** Moves on every change of the floor: a write or read that began at another generation is not ordered against it. */
  private generation = 0;
  /** The schema write of this instance's boot: no read, whatever it asks, may precede it. */
  private schemaWrittenAt: ZedToken | null = null;
  /** False while this instance cannot hear other instances' writes (see FloorChannel). */
  private hearing = true;
  private readonly listeners: Array<(token: ZedToken) => Promise<void>> = [];

  /** A mark to pass to `acknowledged` or `settled`, taken before the request is sent. */
  mark(): number {
    return this.generation;
  }

  /**
   * This instance's write, begun at `mark`, was acknowledged at `token`. Resolves once every
   * listener (the channel to other instances) has been told, so the write's caller answers after.
   */
  async acknowledged(token: ZedToken, mark: number): Promise<void> {
    if (!token) return;
    this.token = mark === this.generation ? token : null;
    this.generation++;
    await Promise.all(this.listeners.map((listener) => listener(token)));
  }

  /** The schema is in place at `token`: reads from now on never use an older revision. */
  async schemaWritten(token: ZedToken, mark: number): Promise<void> {
    this.schemaWrittenAt = token;
    await this.acknowledged(token, mark);
  }

  /** Another instance acknowledged a write; which of its token and ours is newer is unknown. */
  observedElsewhere(): void {
    this.token = null;
    this.generation++;
  }

  channelDown(): void {
    this.hearing = false;
  }

  channelUp(): void {
    this.hearing = true;
  }

  /**
   * The epoch a cached decision belongs to: it changes whenever the floor does. Null while this
   * instance cannot hear the others, when no cached decision may be trusted.
   */
  cacheEpoch(): number | null {
    return this.hearing ? this.generation : null;
  }

  /** A fully consistent read begun at `mark` answered at `token`: it saw every write acknowledged before it. */
  settled(token: ZedToken, mark: number): void {
    if (token && this.token === null && mark === this.generation) this.token = token;
  }

  /** What a read with no stated consistency asks SpiceDB for. */
  readYourWrites(): Resolved {
    return this.token && this.hearing ? { kind: 'at_least_as_fresh', zedToken: this.token } : { kind: 'fully_consistent' };
  }

  /**
   * `minimize_latency`, never before this instance's schema write: a revision from before it
   * does not know the schema's definitions, and SpiceDB would refuse the request.
   */
  minimizeLatency(): Resolved {
    return this.schemaWrittenAt ? { kind: 'at_least_as_fresh', zedToken: this.schemaWrittenAt } : { kind: 'fully_consistent' };
  }

  onAcknowledged(listener: (token: ZedToken) => Promise<void>): void {
    this.listeners.push(listener);
  }
}
