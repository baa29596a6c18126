import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/**
 * scrypt (memory-hard) with a per-password salt, at OWASP's parameters (N=2^17, r=8, p=1) unless
 * configured lower for tests. The encoded hash carries its own parameters, so raising the cost
 * later still verifies old hashes. Runs on libuv's thread pool, not the event loop.
 */
export class PasswordHasher {
  private readonly dummyHash: Promise<string>;

  private readonly cost: number;

  constructor(cost: number) {
    this.cost = cost;
    this.dummyHash = this.hash(randomBytes(16).toString('hex'));
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const N = 2 ** this.cost;
    const key = await derive(password, salt, { N, r: BLOCK_SIZE, p: PARALLELISM, maxmem: 256 * N * BLOCK_SIZE });
    return ['scrypt', N, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
  }

  /** Constant-time comparison. With no stored hash, verifies against a dummy so the work is the same. */
  async verify(password: string, encoded: string | undefined): Promise<boolean> {
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
