import { EntitySchema } from '@mikro-orm/core';

/**
 * One failed login, by what it is counted against (`account:<email>`, `pair:<email> <ip>` or
 * `address:<ip>`). Shared through Postgres so throttling holds across every instance behind the
 * load balancer. An attempt whose password is still being checked is recorded unsettled (it counts,
 * so parallel guesses cannot slip under a limit) and deleted if the password was right.
 */
export class LoginFailure {
  /** Assigned by the database (bigserial) on insert. */
  declare id: string;
  subject: string;
  failedAt: Date = new Date();
  settled: boolean;

  constructor(subject: string, settled = true) {
    this.subject = subject;
    this.settled = settled;
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
    settled: { type: 'boolean', default: true },
  },
});
