import type { Consistency, ZedToken } from './types.ts';
import { typeOfObject, WHOLE_GRAPH, type WriteReach } from './write-reach.ts';

type Resolved = Extract<Consistency, { kind: 'fully_consistent' | 'at_least_as_fresh' }>;

/** What the floor needs of the schema this instance wrote (write-reach.ts, schema.ts). */
export interface SchemaTraits {
  leafTypes: ReadonlySet<string>;
  timeOnlyRevokes: boolean;
}

/** Where the floors stood when a request was sent: pass it back to `acknowledged` or `settled`. */
export interface FloorMark {
  readonly whole: number;
  readonly graph: number;
}

// Past this many remembered objects the graph floor catches up with the whole floor and forgets them.
const REMEMBERED_OBJECTS = 1_024;

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
 *
 * A write that reaches only a few leaf objects (write-reach.ts: registering or sharing one
 * chatbot) must not make every other read fresh, since a read at a brand-new revision misses all
 * of SpiceDB's caches. So there are two floors, each kept by the rules above with its own
 * generation. The whole floor covers every write; the graph floor covers every write except those
 * to the leaf objects written since it last moved, which are remembered by name. A read about one
 * of those objects, or about no object in particular (a lookup of resources), asks the whole
 * floor; any other read asks the graph floor.
 */
export class FreshnessFloor {
  /** The whole floor: covers every acknowledged write; null when no token is known to. */
  private token: ZedToken | null = null;
  /** Moves on every write made or heard of: a write or read that began at another generation is not ordered against it. */
  private generation = 0;
  /** The graph floor: covers every write except those to `recentlyWritten`'s objects. */
  private graphToken: ZedToken | null = null;
  private graphGeneration = 0;
  /** Leaf objects written since the graph floor last moved, with the whole generation after their write. */
  private readonly recentlyWritten = new Map<string, number>();
  /** The schema write of this instance's boot: no read, whatever it asks, may precede it. */
  private schemaWrittenAt: ZedToken | null = null;
  /** That schema's leaf types (write-reach.ts); none until it is written, so every write reaches the whole graph. */
  private leaves: ReadonlySet<string> = new Set();
  /** Whether that schema lets time only revoke (schema.ts); unknown until it is written. */
  private ownSchemaTimeOnly: boolean | undefined;
  /** Set for good once another instance announces a schema under which time may grant access. */
  private heardTimeMayGrant = false;
  /** False while this instance cannot hear other instances' writes (see FloorChannel). */
  private hearing = true;
  private readonly listeners: Array<(token: ZedToken, reach: WriteReach) => Promise<void>> = [];
  private readonly writeObservers: Array<(reach: WriteReach) => void> = [];

  /** A mark to pass to `acknowledged` or `settled`, taken before the request is sent. */
  mark(): FloorMark {
    return { whole: this.generation, graph: this.graphGeneration };
  }

  /**
   * This instance's write, begun at `mark`, was acknowledged at `token`. Observers (the decision
   * cache) hear of it at once; resolves once every listener (the channel to other instances) has
   * been told, so the write's caller answers after.
   */
  async acknowledged(token: ZedToken, mark: FloorMark, reach: WriteReach): Promise<void> {
    if (!token) return;
    this.token = mark.whole === this.generation ? token : null;
    this.generation++;
    if (reach.kind === 'graph') {
      this.moveGraphFloor(mark.graph === this.graphGeneration ? token : null, mark.whole);
    } else {
      this.remember(reach.objects);
    }
    for (const observe of this.writeObservers) observe(reach);
    await Promise.all(this.listeners.map((listener) => listener(token, reach)));
  }

  /** The schema, of these traits, is in place at `token`: reads from now on never use an older revision. */
  async schemaWritten(token: ZedToken, mark: FloorMark, schema: SchemaTraits): Promise<void> {
    this.schemaWrittenAt = token;
    this.leaves = schema.leafTypes;
    this.ownSchemaTimeOnly = schema.timeOnlyRevokes;
    await this.acknowledged(token, mark, WHOLE_GRAPH);
  }

  /** The leaf types of the schema this instance wrote, by which its writes' reach is judged. */
  leafTypes(): ReadonlySet<string> {
    return this.leaves;
  }

  /**
   * Whether a denial may outlive an allow (DecisionCache): the schema this instance wrote lets
   * time only revoke, and no instance has announced one that does not (a rolling deploy that adds
   * an exclusion, say). Once one has, this stays false until the instance restarts.
   */
  timeOnlyRevokes(): boolean {
    return this.ownSchemaTimeOnly === true && !this.heardTimeMayGrant;
  }

  /** What this instance tells others of its own schema (FloorChannel): unknown before it is written. */
  ownSchemaTimeOnlyRevokes(): boolean | undefined {
    return this.ownSchemaTimeOnly;
  }

  /**
   * Another instance acknowledged a write; which of its token and ours is newer is unknown. Its
   * reach is trusted only as far as this instance's schema agrees that the objects are leaves: an
   * instance of another schema (a rolling deploy) may judge a type differently. `timeMayGrant`:
   * the announcing instance's schema lets time grant access (unknown: undefined); the first such
   * announcement retires everything, since denials kept until then may have been kept too long.
   */
  observedElsewhere(announced: WriteReach, timeMayGrant?: boolean): void {
    const firstToSayTimeMayGrant = timeMayGrant === true && !this.heardTimeMayGrant;
    if (timeMayGrant) this.heardTimeMayGrant = true;
    const trusted = !firstToSayTimeMayGrant && announced.kind === 'objects' && announced.objects.every((object) => this.leaves.has(typeOfObject(object)));
    const reach = trusted ? announced : WHOLE_GRAPH;
    this.token = null;
    this.generation++;
    if (reach.kind === 'graph') this.moveGraphFloor(null, this.generation);
    else this.remember(reach.objects);
    for (const observe of this.writeObservers) observe(reach);
  }

  channelDown(): void {
    this.hearing = false;
  }

  channelUp(): void {
    this.hearing = true;
  }

  /** Whether a decision may be cached or served from the cache: not while other instances' writes could go unheard. */
  canCache(): boolean {
    return this.hearing;
  }

  /** A fully consistent read begun at `mark` answered at `token`: it saw every write acknowledged before it. */
  settled(token: ZedToken, mark: FloorMark): void {
    if (!token) return;
    if (this.token === null && mark.whole === this.generation) this.token = token;
    if (this.graphToken === null && mark.graph === this.graphGeneration) {
      this.graphToken = token;
      this.forgetWrittenUpTo(mark.whole);
    }
  }

  /**
   * What a read with no stated consistency asks SpiceDB for. `objects` are the objects whose
   * permissions it reads; without them it may read anything, and asks the whole floor.
   */
  readYourWrites(objects?: readonly string[]): Resolved {
    if (!this.hearing) return { kind: 'fully_consistent' };
    const wholeNeeded = objects === undefined || objects.some((object) => this.recentlyWritten.has(object));
    const token = wholeNeeded ? this.token : this.graphToken;
    return token ? { kind: 'at_least_as_fresh', zedToken: token } : { kind: 'fully_consistent' };
  }

  /**
   * `minimize_latency`, never before this instance's schema write: a revision from before it
   * does not know the schema's definitions, and SpiceDB would refuse the request.
   */
  minimizeLatency(): Resolved {
    return this.schemaWrittenAt ? { kind: 'at_least_as_fresh', zedToken: this.schemaWrittenAt } : { kind: 'fully_consistent' };
  }

  onAcknowledged(listener: (token: ZedToken, reach: WriteReach) => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** Called, synchronously, with the reach of every write this instance makes or hears of. */
  onWrite(observer: (reach: WriteReach) => void): void {
    this.writeObservers.push(observer);
  }

  private remember(objects: readonly string[]): void {
    for (const object of objects) this.recentlyWritten.set(object, this.generation);
    // The whole floor (or, when unknown, a fully consistent read) covers them all.
    if (this.recentlyWritten.size > REMEMBERED_OBJECTS) this.moveGraphFloor(this.token, this.generation);
  }

  /**
   * The graph floor becomes `token` (null: unknown until a fully consistent read settles it),
   * which covers every write acknowledged up to whole generation `covered`. Objects written by
   * then need no remembering. When unknown, none does: the read that settles it begins later.
   */
  private moveGraphFloor(token: ZedToken | null, covered: number): void {
    this.graphToken = token;
    this.graphGeneration++;
    if (token === null) this.recentlyWritten.clear();
    else this.forgetWrittenUpTo(covered);
  }

  private forgetWrittenUpTo(generation: number): void {
    for (const [object, writtenAt] of this.recentlyWritten) {
      if (writtenAt <= generation) this.recentlyWritten.delete(object);
    }
  }
}
