import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Overloaded } from '../errors.ts';

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
/** What a caller turned away is told to wait: a queue of a few hashes drains in about a second. */
const RETRY_AFTER_SECONDS = 1;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export interface HashingLimits {
  /** Hashes computed at once (each takes a core and 128 MiB at cost 17). */
  concurrency: number;
  /** Hashes admitted beyond those, waiting; past it, 503 with Retry-After. */
  queue: number;
}

/** An admitted place: its hash waits for a free slot, and the place is released when done. */
export interface HashingTicket {
  verify(password: string, encoded: string | undefined): Promise<boolean>;
  release(): void;
}

/**
 * scrypt (memory-hard) with a per-password salt, at OWASP's parameters (N=2^17, r=8, p=1) unless
 * configured lower for tests. The encoded hash carries its own parameters, so raising the cost
 * later still verifies old hashes. Runs on libuv's thread pool, not the event loop.
 *
 * Bounded: at most `concurrency` hashes run and `queue` more wait; a caller beyond that is refused
 * at once (503, Retry-After) instead of queueing without end, so a login flood cannot take the
 * cores (or, through the callers, the database pool) from requests that do not hash.
 */
export class PasswordHasher {
  private readonly dummyHash: Promise<string>;
  private readonly cost: number;
  private readonly limits: HashingLimits;
  private admitted = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(cost: number, limits: HashingLimits = { concurrency: 1, queue: 8 }) {
    this.cost = cost;
    this.limits = limits;
    this.dummyHash = this.encode(randomBytes(16).toString('hex'));
  }

  /** A place in the bounded queue, or 503 Overloaded when it is full. */
  admit(): HashingTicket {
    if (this.admitted >= this.limits.concurrency + this.limits.queue) {
      throw new Overloaded('Too many sign-ins are being checked right now; retry shortly', RETRY_AFTER_SECONDS);
    }
    this.admitted++;
    let released = false;
    return {
      verify: (password, encoded) => this.inSlot(() => this.compare(password, encoded)),
      release: () => {
        if (released) return;
        released = true;
        this.admitted--;
      },
    };
  }

  async hash(password: string): Promise<string> {
    const ticket = this.admit();
    try {
      return await this.inSlot(() => this.encode(password));
    } finally {
      ticket.release();
    }
  }

  /** Constant-time comparison. With no stored hash, verifies against a dummy so the work is the same. */
  async verify(password: string, encoded: string | undefined): Promise<boolean> {
    const ticket = this.admit();
    try {
      return await ticket.verify(password, encoded);
    } finally {
      ticket.release();
    }
  }

  private async inSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` never exceeds the limit.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private async encode(password: string): Promise<string> {
    const salt = randomBytes(16);
    const N = 2 ** this.cost;
    const key = await derive(password, salt, { N, r: BLOCK_SIZE, p: PARALLELISM, maxmem: 256 * N * BLOCK_SIZE });
    return ['scrypt', N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
  }

  private async compare(password: string, encoded: string | undefined): Promise<boolean> {
    const [scheme, n, r, p, salt, expected] = (encoded ?? (await this.dummyHash)).split('$');
    if (scheme !== 'scrypt' || !n || !r || !p || !salt || !expected) return false;
    const N = Number(n);
    const blockSize = Number(r);
    const expectedKey = Buffer.from(expected, 'base64');
    const key = await derive(password, Buffer.from(salt, 'base64'), {
      N,
      r: blockSize,
      p: Number(p),
      maxmem: 256 * N * blockSize,
    });
    return key.length === expectedKey.length && timingSafeEqual(key, expectedKey) && encoded !== undefined;
  }
}
