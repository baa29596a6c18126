import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import type { JWK } from 'jose';

/**
 * A JWT signing key. Kept in Postgres so every instance signs and verifies with the same set and
 * restarts do not log anyone out. The private half is never served: only `publicJwk` reaches the JWKS.
 */
@Entity({ tableName: 'signing_keys' })
export class SigningKey {
  /** The `kid`: the key's RFC 7638 thumbprint. */
  @PrimaryKey({ type: 'string', length: 64 })
  kid: string;

  @Property({ type: 'string', length: 16 })
  algorithm: string;

  @Property({ type: 'json' })
  publicJwk: JWK;

  /** Null for keys that come from configuration (JWT_PRIVATE_KEY): only their public half is recorded. */
  @Property({ type: 'json', nullable: true, lazy: true, hidden: true })
  privateJwk: JWK | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  constructor(kid: string, algorithm: string, publicJwk: JWK, privateJwk: JWK | null) {
    this.kid = kid;
    this.algorithm = algorithm;
    this.publicJwk = publicJwk;
    this.privateJwk = privateJwk;
  }
}
