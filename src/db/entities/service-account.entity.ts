import { randomUUID } from 'node:crypto';
import { ArrayType, Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A platform service (chatbots, knowledge bases, inference) that calls the authorization API.
 * Its secret key is shown once at creation; only a SHA-256 hash is kept (the key is 256 random
 * bits, so a fast hash is enough).
 */
@Entity({ tableName: 'service_accounts' })
export class ServiceAccount {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 100, unique: true })
  name: string;

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  keyHash: string;

  /** The resource types whose relationships this account may write, e.g. ['chatbot']. */
  @Property({ type: ArrayType })
  writableTypes: string[];

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  constructor(name: string, keyHash: string, writableTypes: string[]) {
    this.name = name;
    this.keyHash = keyHash;
    this.writableTypes = writableTypes;
  }
}
