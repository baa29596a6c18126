import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization } from '../db/entities/index.js';
import type { Orm } from '../db/orm.js';
import type { Logger } from '../observability/logger.js';
import type { RelationshipOutbox } from './outbox.js';
import type { Relationship, RelationshipFilter, RelationshipUpdate, SpiceDbClient, ZedToken } from './spicedb.client.js';

/**
 * What a change to an organization does to the graph. `revoke` and `replace` go to SpiceDB before
 * the Postgres commit (a revocation must be in force before the request answers success);
 * `grant` goes through the outbox after the commit (a grant must never precede its row).
 */
export interface GraphChange<T> {
  result: T;
  /** Applied atomically in one WriteRelationships before the commit (role changes: DELETE old + TOUCH new). */
  replace?: RelationshipUpdate[];
  /** Everything matching these filters is deleted before the commit (organization and workspace deletion). */
  deleteMatching?: RelationshipFilter[];
  /** Pending outbox rows to drop before anything else, when the objects they name are going away. */
  supersede?: { organization?: string; resources?: Array<{ type: string; id: string }> };
  /** Delivered through the outbox after the commit. */
  grant?: Relationship[];
  /** The organization row itself is deleted, so no ZedToken is kept on it. */
  deletesOrganization?: boolean;
}

/**
 * Runs changes to one organization in a transaction that holds its row lock, so changes to one
 * organization (and the ZedTokens they store) are serialized across every instance.
 */
export class RelationshipWriter {
  constructor(
    private readonly orm: Orm,
    private readonly spicedb: SpiceDbClient,
    private readonly outbox: RelationshipOutbox,
    private readonly logger: Logger,
  ) {}

  /**
   * `work` receives the locked organization (null when it does not exist), changes rows, and
   * returns what that does to the graph. A domain error thrown by `work` changes nothing anywhere.
   */
  async inOrganization<T>(
    organizationId: string,
    work: (em: EntityManager, organization: Organization | null) => Promise<GraphChange<T>>,
  ): Promise<T> {
    let appliedBeforeCommit: RelationshipUpdate[] = [];
    try {
      const { change, pendingGrants } = await this.orm.em.transactional(async (em) => {
        const organization = await em.findOne(Organization, { id: organizationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        const change = await work(em, organization);
        const token = await this.applyBeforeCommit(em, change, (updates) => (appliedBeforeCommit = updates));
        const pendingGrants = change.grant?.length ? await this.outbox.enqueueGrants(em, change.grant, organizationId) : [];
        if (token && organization && !change.deletesOrganization) organization.zedToken = token;
        await em.flush();
        return { change, pendingGrants };
      });
      await this.outbox.deliver(pendingGrants, organizationId);
      return change.result;
    } catch (error) {
      if (appliedBeforeCommit.length > 0) await this.undo(appliedBeforeCommit);
      throw error;
    }
  }

  private async applyBeforeCommit<T>(
    em: EntityManager,
    change: GraphChange<T>,
    recordApplied: (updates: RelationshipUpdate[]) => void,
  ): Promise<ZedToken | undefined> {
    if (change.supersede?.organization) await this.outbox.supersedeOrganization(em, change.supersede.organization);
    for (const resource of change.supersede?.resources ?? []) {
      await this.outbox.supersedeResource(em, resource.type, resource.id);
    }
    let token: ZedToken | undefined;
    if (change.replace?.length) {
      await this.outbox.supersedePending(em, change.replace.map((update) => update.relationship));
      token = await this.spicedb.writeRelationships(change.replace);
      recordApplied(change.replace);
    }
    // Deletions only ever take access away, so a failure part-way leaves SpiceDB granting less
    // than Postgres records (safe); reconcile restores the rest.
    for (const filter of change.deleteMatching ?? []) {
      token = await this.spicedb.deleteRelationships(filter);
    }
    return token;
  }

  /**
   * The Postgres commit failed after SpiceDB took the change: write the inverse, so SpiceDB does
   * not keep a grant Postgres never recorded. If that fails too, reconcile repairs it.
   */
  private async undo(applied: RelationshipUpdate[]): Promise<void> {
    const inverse = applied.map(
      (update): RelationshipUpdate => ({
        operation: update.operation === 'touch' ? 'delete' : 'touch',
        relationship: update.relationship,
      }),
    );
    try {
      await this.spicedb.writeRelationships(inverse);
    } catch (error) {
      this.logger.error({ err: error, updates: inverse.length }, 'could not undo a SpiceDB change after a failed commit');
    }
  }
}
