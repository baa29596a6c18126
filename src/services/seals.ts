import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ZedToken } from '../authz/types.ts';
import type { Orm } from '../db/orm.ts';

const SECRET_BYTES = 32;
const MAC_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * What this service hands to clients and takes back, sealed with keys derived from one secret
 * every instance shares (SERVER_SECRET, else generated once and kept in Postgres).
 *
 * A ZedToken goes out with a MAC, so what comes back in `at_least_as_fresh` is a token SpiceDB
 * gave this service: a crafted revision never reaches SpiceDB (one past int64 makes a
 * `spicedb serve` v1.56 on Postgres panic). A cursor goes out encrypted and authenticated for a
 * context (AES-256-GCM, the context as associated data): the client learns nothing from it and
 * can neither alter it nor use it in another context.
 */
export class Seals {
  private readonly zedTokenKey: KeyObject;
  private readonly cursorKey: KeyObject;
  private readonly factorKey: KeyObject;

  constructor(secret: Uint8Array) {
    this.zedTokenKey = deriveKey(secret, 'tenant-authz zedtoken mac');
    this.cursorKey = deriveKey(secret, 'tenant-authz cursor aead');
    this.factorKey = deriveKey(secret, 'tenant-authz second factor aead');
  }

  /** From SERVER_SECRET when configured, else from the secret the first instance stored. */
  static async load(orm: Orm, configured: string | undefined): Promise<Seals> {
    return new Seals(configured === undefined ? await sharedSecret(orm, 'sealing') : Buffer.from(configured, 'utf8'));
  }

  /** `<token>.<MAC>`: the token as SpiceDB gave it, and proof that this service handed it out. No token, nothing to seal. */
  sealZedToken(token: ZedToken): string {
    return token && `${token}.${this.zedTokenMac(token)}`;
  }

  /** The ZedToken inside a sealed one; undefined for anything this service did not hand out. */
  openZedToken(sealed: string): ZedToken | undefined {
    const dot = sealed.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const token = sealed.slice(0, dot);
    return sameText(sealed.slice(dot + 1), this.zedTokenMac(token)) ? token : undefined;
  }

  /** `payload`, encrypted and authenticated for `context`, as base64url. */
  sealCursor(payload: string, context: string): string {
    return seal(this.cursorKey, payload, context);
  }

  /** The payload of a cursor sealed for this very context; undefined for anything else. */
  openCursor(sealed: string, context: string): string | undefined {
    return open(this.cursorKey, sealed, context);
  }

  /** A second factor's secret, as stored: encrypted and bound to its user (another user's row cannot be swapped in). */
  sealFactorSecret(secret: string, userId: string): string {
    return seal(this.factorKey, secret, userId);
  }

  openFactorSecret(sealed: string, userId: string): string | undefined {
    return open(this.factorKey, sealed, userId);
  }

  private zedTokenMac(token: string): string {
    return createHmac('sha256', this.zedTokenKey).update(token).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

/** AES-256-GCM with `context` as associated data: iv, ciphertext and tag, as base64url. */
function seal(key: KeyObject, payload: string, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context, 'utf8'));
  return Buffer.concat([iv, cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}

function open(key: KeyObject, sealed: string, context: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  // Node's decoder skips what is not base64url: only the canonical text of the bytes counts.
  if (bytes.length < IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== sealed) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** A KeyObject, not bytes: OpenSSL then prepares the key once, not on every MAC (15 µs → 3 µs of CPU each). */
function deriveKey(secret: Uint8Array, purpose: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), purpose, 32)));
}

function sameText(a: string, b: string): boolean {
  const [left, right] = [Buffer.from(a), Buffer.from(b)];
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The secret named `name`: the first instance to ask stores a random one, every instance reads the one stored. */
async function sharedSecret(orm: Orm, name: string): Promise<Buffer> {
  const em = orm.em.fork();
  await em.execute('insert into server_secrets (name, secret) values (?, ?) on conflict (name) do nothing', [name, randomBytes(SECRET_BYTES)]);
  const [row] = await em.execute<Array<{ secret: Buffer }>>('select secret from server_secrets where name = ?', [name]);
  if (!row) throw new Error(`The server secret ${name} was neither stored nor found`);
  return row.secret;
}
