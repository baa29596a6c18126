import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Overloaded } from '../errors.ts';

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
/** What a caller turned away is told to wait: a queue of a few hashes drains in about a second. */
const RETRY_AFTER_SECONDS = 1;
/** How much each new duration moves the running estimate of one hash's time. */
const DURATION_WEIGHT = 0.2;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export interface HashingLimits {
  /** Hashes computed at once in each lane (each takes a core and 128 MiB at cost 17). */
  concurrency: number;
  /** Hashes admitted to wait beyond those, in each lane; past it, 503 with Retry-After. */
  queue: number;
}

/**
 * Who a hash is for. `recognized`: a sign-in from a client that signed in to the account before
 * (its address or device token, src/services/known-clients.ts). `open`: everyone else, and signups.
 * Each lane has its own slots and queue, so a flood of strangers fills only the open lane: an
 * account's own client neither finds the queue full nor waits behind a stranger's hash.
 */
export type HashingLane = 'recognized' | 'open';

/** A place in a lane's queue: its hashes wait for a free slot; the place is released when done. */
export interface HashingTicket {
  verify(password: string, encoded: string | undefined): Promise<boolean>;
  hash(password: string): Promise<string>;
  release(): void;
}

export type HashOperation = 'hash' | 'verify';

/**
 * scrypt (memory-hard) with a per-password salt, at OWASP's parameters (N=2^17, r=8, p=1) unless
 * configured lower for tests. The encoded hash carries its own parameters, so raising the cost
 * later still verifies old hashes (and `needsRehash` says which to replace). Runs on libuv's
 * thread pool, not the event loop.
 *
 * Bounded: in each lane at most `concurrency` hashes run and `queue` more wait; a caller beyond
 * that is refused at once (503, Retry-After) instead of queueing without end, so a login flood
 * cannot take the cores (or, through the callers, the database pool) from requests that do not hash.
 */
export class PasswordHasher {
  private readonly dummyHash: Promise<string>;
  private readonly cost: number;
  private readonly limits: HashingLimits;
  private readonly computed: (operation: HashOperation) => void;
  private readonly admitted: Record<HashingLane, number> = { recognized: 0, open: 0 };
  private readonly running: Record<HashingLane, number> = { recognized: 0, open: 0 };
  private readonly waiting: Record<HashingLane, Array<() => void>> = { recognized: [], open: [] };
  private typicalMs: number | undefined;

  constructor(cost: number, limits: HashingLimits = { concurrency: 1, queue: 8 }, computed: (operation: HashOperation) => void = () => {}) {
    this.cost = cost;
    this.limits = limits;
    this.computed = computed;
    this.dummyHash = this.encode(randomBytes(16).toString('hex'));
  }

  /** 503 Overloaded at once if the lane is full now (nothing is reserved: `admit` asks again). */
  assertRoom(lane: HashingLane): void {
    if (this.admitted[lane] >= this.limits.concurrency + this.limits.queue) {
      throw new Overloaded('Too many sign-ins are being checked right now; retry shortly', RETRY_AFTER_SECONDS);
    }
  }

  /** A place in the lane's bounded queue, or 503 Overloaded when it is full. */
  admit(lane: HashingLane): HashingTicket {
    this.assertRoom(lane);
    this.admitted[lane]++;
    let released = false;
    return {
      verify: (password, encoded) => this.inSlot(lane, () => this.compare(password, encoded)),
      hash: (password) => this.inSlot(lane, () => this.encode(password)),
      release: () => {
        if (released) return;
        released = true;
        this.admitted[lane]--;
      },
    };
  }

  /** A hash in the open lane (503 when it is full). */
  async hash(password: string): Promise<string> {
    const ticket = this.admit('open');
    try {
      return await ticket.hash(password);
    } finally {
      ticket.release();
    }
  }

  /** Constant-time comparison. With no stored hash, verifies against a dummy so the work is the same. */
  async verify(password: string, encoded: string | undefined): Promise<boolean> {
    const ticket = this.admit('open');
    try {
      return await ticket.verify(password, encoded);
    } finally {
      ticket.release();
    }
  }

  /** Whether a stored hash was made with other parameters than today's (an older PASSWORD_HASH_COST). */
  needsRehash(encoded: string): boolean {
    const [scheme, n, r, p] = encoded.split('$');
    return scheme !== 'scrypt' || Number(n) !== 2 ** this.cost || Number(r) !== BLOCK_SIZE || Number(p) !== PARALLELISM;
  }

  /**
   * Waits about as long as one hash takes here, computing nothing and holding no place: for an
   * answer that needs no hash but must not be told apart from one that did by its time.
   */
  async waitAsLongAsAHash(): Promise<void> {
    await this.dummyHash;
    await sleep(this.typicalMs ?? 0);
  }

  private async inSlot<T>(lane: HashingLane, work: () => Promise<T>): Promise<T> {
    if (this.running[lane] >= this.limits.concurrency) await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    else this.running[lane]++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the lane's next waiter, so `running` never exceeds the limit.
      const next = this.waiting[lane].shift();
      if (next) next();
      else this.running[lane]--;
    }
  }

  private async encode(password: string): Promise<string> {
    const salt = randomBytes(16);
    const N = 2 ** this.cost;
    const key = await this.timed('hash', () => derive(password, salt, { N, r: BLOCK_SIZE, p: PARALLELISM, maxmem: 256 * N * BLOCK_SIZE }));
    return ['scrypt', N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
  }

  private async compare(password: string, encoded: string | undefined): Promise<boolean> {
    const [scheme, n, r, p, salt, expected] = (encoded ?? (await this.dummyHash)).split('$');
    if (scheme !== 'scrypt' || !n || !r || !p || !salt || !expected) return false;
    const N = Number(n);
    const blockSize = Number(r);
    const expectedKey = Buffer.from(expected, 'base64');
    const key = await this.timed('verify', () =>
      derive(password, Buffer.from(salt, 'base64'), { N, r: blockSize, p: Number(p), maxmem: 256 * N * blockSize }),
    );
    return key.length === expectedKey.length && timingSafeEqual(key, expectedKey) && encoded !== undefined;
  }

  private async timed(operation: HashOperation, derivation: () => Promise<Buffer>): Promise<Buffer> {
    const started = performance.now();
    const key = await derivation();
    const elapsed = performance.now() - started;
    this.typicalMs = this.typicalMs === undefined ? elapsed : this.typicalMs + DURATION_WEIGHT * (elapsed - this.typicalMs);
    this.computed(operation);
    return key;
  }
}
