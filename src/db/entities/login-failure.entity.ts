import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One failed login, by what it is counted against (`email:<address>` or `address:<ip>`).
 * Shared through Postgres so throttling holds across every instance behind the load balancer.
 */
@Entity({ tableName: 'login_failures' })
@Index({ properties: ['subject', 'failedAt'] })
export class LoginFailure {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'string', length: 400 })
  subject: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  failedAt: Date = new Date();

  constructor(subject: string) {
    this.subject = subject;
  }
}
