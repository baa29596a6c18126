import type { EntityManager } from '@mikro-orm/postgresql';
import type { RelationshipOutbox } from './outbox.ts';
import type { OutboxRelay } from './outbox-relay.ts';
import { mfaEnrolmentTuple } from './relationships.ts';
import type { SpiceDbClient } from './spicedb.client.ts';
import type { ZedToken } from './types.ts';
import type { Orm } from '../db/orm.ts';
import { postgresArray } from '../db/postgres-array.ts';

/**
 * Who has a confirmed second factor, as SpiceDB knows it (`mfa_registry:enrolled#enrolled`): what
 * an organization that requires one asks of its members. Gaining it grants access, so it goes
 * through the outbox after the commit; losing it takes access away, so it is written before.
 */
export class MfaEnrolments {
  private readonly spicedb: SpiceDbClient;
  private readonly outbox: RelationshipOutbox;
  private readonly relay: OutboxRelay;
  private readonly orm: Orm;

  constructor(orm: Orm, spicedb: SpiceDbClient, outbox: RelationshipOutbox, relay: OutboxRelay) {
    this.orm = orm;
    this.spicedb = spicedb;
    this.outbox = outbox;
    this.relay = relay;
  }

  /** Records the enrolment in the caller's transaction; pass the answer to `deliver` once it commits. */
  async enrolWithin(em: EntityManager, userId: string): Promise<string[]> {
    return this.outbox.enqueueGrants(em, [mfaEnrolmentTuple(userId)], null);
  }

  /**
   * Delivers the enrolment while holding the locks of the organizations that require a factor of
   * the user, and gives them its ZedToken: no change to them is under way, so every token they
   * hold is older, and their next checks see the user's roles. If the relay got there first, the
   * tuple is touched again for a token. A failure leaves the enrolment to the relay's next round.
   */
  async deliver(pending: string[], userId: string): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      const requiring = await this.lockRequiring(em, userId);
      const token =
        (await this.relay.deliver(pending, null)) ??
        (await this.spicedb.writeRelationships([{ operation: 'touch', relationship: mfaEnrolmentTuple(userId) }]));
      await keepToken(em, requiring, token);
    });
  }

  /**
   * In force before the caller's transaction commits (a failed write fails the change). The
   * organizations that require a factor of the user keep the write's ZedToken, under their locks
   * as a unit of work keeps it, so their next checks see the user lose their roles there.
   */
  async withdrawBeforeCommit(em: EntityManager, userId: string): Promise<void> {
    const requiring = await this.lockRequiring(em, userId);
    await this.outbox.supersedePending(em, [mfaEnrolmentTuple(userId)]);
    const token = await this.spicedb.writeRelationships([{ operation: 'delete', relationship: mfaEnrolmentTuple(userId) }]);
    await keepToken(em, requiring, token);
  }

  /** The ids of the organizations that require a factor of the user (a member), locked as a unit of work locks them. */
  private async lockRequiring(em: EntityManager, userId: string): Promise<string[]> {
    const rows = await em.execute<Array<{ id: string }>>(
      `select o.id from organizations o join organization_memberships m on m.organization_id = o.id
        where m.user_id = ? and o.require_mfa order by o.id for update of o`,
      [userId],
    );
    return rows.map((row) => row.id);
  }
}

async function keepToken(em: EntityManager, organizationIds: string[], token: ZedToken): Promise<void> {
  if (organizationIds.length === 0) return;
  await em.execute('update organizations set zed_token = ? where id = any(?::uuid[])', [token, postgresArray(organizationIds)]);
}
