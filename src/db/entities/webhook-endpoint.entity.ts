import { randomUUID } from 'node:crypto';
import { ArrayType, EntitySchema } from '@mikro-orm/core';

export type WebhookEndpointState = 'enabled' | 'disabled';

/**
 * Where a service account wants events delivered (Standard Webhooks). The signing secret is kept
 * readable, because signing needs it; presenters never include it, so it is seen once, when made.
 */
export class WebhookEndpoint {
  id: string = randomUUID();
  serviceAccountId: string;
  url: string;
  description: string | null = null;
  /** Type prefixes the endpoint receives; null: every type. */
  eventTypes: string[] | null = null;
  /** The organizations whose events it receives; null: every one its account may read. */
  organizationIds: string[] | null = null;
  secret: string;
  /** Still signed with, beside the new one, until previousSecretExpiresAt (a rotation's overlap). */
  previousSecret: string | null = null;
  previousSecretExpiresAt: Date | null = null;
  state: WebhookEndpointState = 'enabled';
  disabledReason: string | null = null;
  disabledAt: Date | null = null;
  /** The first failure since the last success: failing for long enough disables the endpoint. */
  failingSince: Date | null = null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(serviceAccountId: string, url: string, secret: string) {
    this.serviceAccountId = serviceAccountId;
    this.url = url;
    this.secret = secret;
  }
}

export const WebhookEndpointSchema = new EntitySchema<WebhookEndpoint>({
  class: WebhookEndpoint,
  tableName: 'webhook_endpoints',
  properties: {
    id: { type: 'uuid', primary: true },
    serviceAccountId: { type: 'uuid', index: true },
    url: { type: 'string', length: 2048 },
    description: { type: 'string', length: 500, nullable: true },
    eventTypes: { type: ArrayType, nullable: true, columnType: 'text[]' },
    organizationIds: { type: ArrayType, nullable: true, columnType: 'uuid[]' },
    secret: { type: 'string', length: 100, hidden: true },
    previousSecret: { type: 'string', length: 100, nullable: true, hidden: true },
    previousSecretExpiresAt: { type: 'datetime', nullable: true },
    state: { type: 'string', length: 20, default: 'enabled' },
    disabledReason: { type: 'string', length: 500, nullable: true },
    disabledAt: { type: 'datetime', nullable: true },
    failingSince: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
