import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, compactVerify, exportJWK } from 'jose';
import { z } from 'zod';
import { parseJsonOrUndefined } from '../json.ts';
import { parsePrivateKey, parsePublicKey } from '../key-material.ts';

/**
 * Checkpoints: a chain's head (its newest event's position and hash), signed with an Ed25519 key
 * that is not in the database (AUDIT_CHECKPOINT_KEY). Whoever can write the database can rewrite
 * a chain and recompute every later hash, or delete its newest events, and the chain still
 * verifies against itself; it cannot sign. A checkpoint kept outside the database pins the chain
 * up to its position: a rewrite changes the hash there, a truncation removes the position.
 */

/** What a checkpoint says: `chain` (`organization:<id>`, `user:<id>`, ...) had this event at `signedAt`. */
export interface CheckpointStatement {
  chain: string;
  position: number;
  hash: string;
  signedAt: Date;
}

export interface Checkpoint extends CheckpointStatement {
  /** The RFC 7638 thumbprint of the signing key's public half. */
  keyId: string;
  /** The statement as a compact JWS (EdDSA): all a verifier needs, with the public key. */
  signature: string;
}

const JWS_TYPE = 'tenant-authz-audit-checkpoint';

const signedStatement = z.strictObject({
  chain: z.string().min(1),
  position: z.number().int().min(0),
  hash: z.string(),
  signed_at: z.iso.datetime(),
});

async function keyIdOf(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey));
}

export class CheckpointSigner {
  readonly keyId: string;
  private readonly privateKey: KeyObject;

  private constructor(privateKey: KeyObject, keyId: string) {
    this.privateKey = privateKey;
    this.keyId = keyId;
  }

  /** AUDIT_CHECKPOINT_KEY: an Ed25519 private key, PKCS#8 PEM or JWK (config.ts has checked it). */
  static async load(configured: string): Promise<CheckpointSigner> {
    const privateKey = parsePrivateKey(configured);
    return new CheckpointSigner(privateKey, await keyIdOf(createPublicKey(privateKey)));
  }

  async sign(statement: CheckpointStatement): Promise<Checkpoint> {
    const payload = JSON.stringify({
      chain: statement.chain,
      position: statement.position,
      hash: statement.hash,
      signed_at: statement.signedAt.toISOString(),
    });
    const signature = await new CompactSign(new TextEncoder().encode(payload))
      .setProtectedHeader({ alg: 'EdDSA', kid: this.keyId, typ: JWS_TYPE })
      .sign(this.privateKey);
    return { ...statement, keyId: this.keyId, signature };
  }
}

export class CheckpointVerifier {
  readonly keyId: string;
  private readonly publicKey: KeyObject;

  private constructor(publicKey: KeyObject, keyId: string) {
    this.publicKey = publicKey;
    this.keyId = keyId;
  }

  /** From the key's public half, or from the private key itself: PEM or JWK. */
  static async load(text: string): Promise<CheckpointVerifier> {
    const publicKey = parsePublicKey(text);
    if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`an audit checkpoint key is Ed25519, not ${publicKey.asymmetricKeyType ?? 'symmetric'}`);
    return new CheckpointVerifier(publicKey, await keyIdOf(publicKey));
  }

  /** What the checkpoint says, if this key signed it as a checkpoint; undefined for anything else. */
  async verify(signature: string): Promise<CheckpointStatement | undefined> {
    try {
      const { payload, protectedHeader } = await compactVerify(signature, this.publicKey, { algorithms: ['EdDSA'] });
      if (protectedHeader.typ !== JWS_TYPE) return undefined;
      const statement = signedStatement.parse(JSON.parse(new TextDecoder().decode(payload)));
      return { chain: statement.chain, position: statement.position, hash: statement.hash, signedAt: new Date(statement.signed_at) };
    } catch {
      return undefined;
    }
  }
}

/**
 * The signatures in a file of checkpoints as the service hands them out: one checkpoint object
 * (`GET …/audit-checkpoint`), a JSON array of them, or lines each a checkpoint object or a bare
 * compact JWS (the export's `Audit-Checkpoint` header).
 */
export function checkpointSignaturesIn(text: string): string[] {
  const whole = parseJsonOrUndefined(text);
  if (whole !== undefined) return (Array.isArray(whole) ? whole : [whole]).map(signatureOf);
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => (line.startsWith('{') ? signatureOf(parseJsonOrUndefined(line)) : line));
}

function signatureOf(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  const signature = (entry as { signature?: unknown } | null)?.signature;
  return typeof signature === 'string' ? signature : '';
}
