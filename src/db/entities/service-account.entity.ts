import { randomUUID } from 'node:crypto';
import { ArrayType, EntitySchema } from '@mikro-orm/core';

/**
 * A platform service (chatbots, knowledge bases, inference) that calls the authorization API.
 * Its secret key is shown once at creation; only a SHA-256 hash is kept (the key is 256 random
 * bits, so a fast hash is enough).
 */
export class ServiceAccount {
  id: string = randomUUID();
  name: string;
  keyHash: string;
  /** The resource types whose relationships this account may write, e.g. ['chatbot']. */
  writableTypes: string[];
  /** The policy modules (policy/<name>.zed) whose relationships it may write, e.g. ['todo']. */
  modules: string[] = [];
  /** May write without naming a user it acts for (backfills, migrations). */
  trusted = false;
  /** May set organizations' subscription tiers (a billing system, after payment). */
  setsSubscriptionTiers = false;
  /** The organizations it may read and write in; null: every organization. */
  organizationIds: string[] | null = null;
  createdAt: Date = new Date();
  revokedAt: Date | null = null;

  constructor(name: string, keyHash: string, writableTypes: string[]) {
    this.name = name;
    this.keyHash = keyHash;
    this.writableTypes = writableTypes;
  }
}

export const ServiceAccountSchema = new EntitySchema<ServiceAccount>({
  class: ServiceAccount,
  tableName: 'service_accounts',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string', length: 100, unique: true },
    keyHash: { type: 'string', length: 64, unique: true, hidden: true },
    writableTypes: { type: ArrayType },
    modules: { type: ArrayType },
    trusted: { type: 'boolean', default: false },
    setsSubscriptionTiers: { type: 'boolean', default: false },
    organizationIds: { type: ArrayType, nullable: true, columnType: 'uuid[]' },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    revokedAt: { type: 'datetime', nullable: true },
  },
});
