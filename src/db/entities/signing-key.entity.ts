import { EntitySchema } from '@mikro-orm/core';
import type { JWK } from 'jose';

/**
 * A JWT signing key. Kept in Postgres so every instance signs and verifies with the same set and
 * restarts do not log anyone out. The private half is never served: only `publicJwk` reaches the JWKS.
 */
export class SigningKey {
  /** The `kid`: the key's RFC 7638 thumbprint. */
  kid: string;
  algorithm: string;
  publicJwk: JWK;
  /** Null for keys that come from configuration (JWT_PRIVATE_KEY): only their public half is recorded. */
  privateJwk: JWK | null;
  createdAt: Date = new Date();

  constructor(kid: string, algorithm: string, publicJwk: JWK, privateJwk: JWK | null) {
    this.kid = kid;
    this.algorithm = algorithm;
    this.publicJwk = publicJwk;
    this.privateJwk = privateJwk;
  }
}

export const SigningKeySchema = new EntitySchema<SigningKey>({
  class: SigningKey,
  tableName: 'signing_keys',
  properties: {
    kid: { type: 'string', length: 64, primary: true },
    algorithm: { type: 'string', length: 16 },
    publicJwk: { type: 'json' },
    privateJwk: { type: 'json', nullable: true, lazy: true, hidden: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
