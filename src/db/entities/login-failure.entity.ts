import { EntitySchema } from '@mikro-orm/core';

/**
 * One failed login, by what it is counted against (`email:<address>` or `address:<ip>`).
 * Shared through Postgres so throttling holds across every instance behind the load balancer.
 */
export class LoginFailure {
  /** Assigned by the database (bigserial) on insert. */
  declare id: string;
  subject: string;
  failedAt: Date = new Date();

  constructor(subject: string) {
    this.subject = subject;
  }
}

export const LoginFailureSchema = new EntitySchema<LoginFailure>({
  class: LoginFailure,
  tableName: 'login_failures',
  indexes: [{ properties: ['subject', 'failedAt'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    subject: { type: 'string', length: 400 },
    failedAt: { type: 'datetime', defaultRaw: 'now()' },
  },
});
