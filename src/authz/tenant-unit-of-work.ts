import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAuditEvents, type AuditAppend, type AuditEntry } from '../audit/audit-log.ts';
import { Organization } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import type { RelationshipOutbox } from './outbox.ts';
import type { OutboxRelay } from './outbox-relay.ts';
import { recordedTuplesOf, tupleKey } from './relationships.ts';
import type { SpiceDbClient } from './spicedb.client.ts';
import type { Relationship, RelationshipFilter, RelationshipUpdate, ZedToken } from './types.ts';

/**
 * What a change to an organization does to the graph, named by when each part reaches SpiceDB:
 * before the Postgres commit (a revocation must be in force before the request answers success)
 * or after it, through the outbox (a grant must never precede its row).
 */
export interface GraphChange<T> {
  result: T;
  /** One atomic WriteRelationships before the commit: revocations, and role moves (DELETE old + TOUCH new). */
  writeBeforeCommit?: RelationshipUpdate[];
  /** Everything matching these filters is deleted before the commit (organization and workspace deletion). */
  deleteBeforeCommit?: RelationshipFilter[];
  /** Pending outbox rows to drop before anything else, when the objects they name are going away. */
  supersede?: { organization?: string; resources?: Array<{ type: string; id: string }>; subjects?: Array<{ type: string; id: string }> };
  /** Delivered through the outbox once the commit has happened. */
  grantAfterCommit?: Relationship[];
  /** The organization row itself is deleted, so no ZedToken is kept on it. */
  deletesOrganization?: boolean;
  /**
   * What happened, for the audit log: appended to the home organization's hash chain (or, with
   * `organizationId`, another locked organization's: a resource moving out) in this transaction,
   * under the row locks, before anything reaches SpiceDB.
   */
  audit?: Array<AuditEntry & { organizationId?: string }>;
  /**
   * Runs in the transaction, under the locks, once the writes before the commit are in SpiceDB:
   * for rows that follow from what SpiceDB answers about the graph as this change leaves it (the
   * pending invitations a removed or demoted inviter may no longer send). `freshness` is the
   * write's ZedToken (else the organization's newest); the events it returns join the home chain.
   */
  afterWrite?: (em: EntityManager, freshness: ZedToken | null) => Promise<AuditEntry[]>;
}

/** A change's result, with the ZedToken a check must be at least as fresh as to see it (null: nothing written). */
export interface Written<T> {
  result: T;
  zedToken: ZedToken | null;
}

/**
 * The tenant unit of work: runs a change to one organization in a Postgres transaction that holds
 * its row lock (so changes to one organization, and the ZedTokens they store, are serialized
 * across every instance), writes its revocations to SpiceDB before the commit, records its grants
 * in the outbox inside the transaction, delivers them after the commit, and resyncs the touched
 * tuples if the commit fails after SpiceDB took the write.
 */
export class TenantUnitOfWork {
  private readonly orm: Orm;
  private readonly spicedb: SpiceDbClient;
  private readonly outbox: RelationshipOutbox;
  private readonly relay: OutboxRelay;
  private readonly logger: Logger;
  private readonly appendAudit: AuditAppend;

  constructor(
    orm: Orm,
    spicedb: SpiceDbClient,
    outbox: RelationshipOutbox,
    relay: OutboxRelay,
    logger: Logger,
    appendAudit: AuditAppend = appendAuditEvents,
  ) {
    this.orm = orm;
    this.spicedb = spicedb;
    this.outbox = outbox;
    this.relay = relay;
    this.logger = logger;
    this.appendAudit = appendAudit;
  }

  /**
   * `work` receives the locked organization (null when it does not exist), changes rows, and
   * returns what that does to the graph. A domain error thrown by `work` changes nothing anywhere.
   */
  async inOrganization<T>(
    organizationId: string,
    work: (em: EntityManager, organization: Organization | null) => Promise<GraphChange<T>>,
  ): Promise<Written<T>> {
    return this.inOrganizations([organizationId], (em, locked) => work(em, locked.get(organizationId) ?? null));
  }

  /**
   * The same for a change that spans organizations (a resource moving from one to another): every
   * row locked, in id order so two such changes cannot deadlock. The first organization is the
   * change's home: its grants' outbox rows name it. Each locked organization keeps the ZedToken.
   */
  async inOrganizations<T>(
    organizationIds: string[],
    work: (em: EntityManager, locked: Map<string, Organization>) => Promise<GraphChange<T>>,
  ): Promise<Written<T>> {
    const [home = ''] = organizationIds;
    let possiblyApplied: RelationshipUpdate[] = [];
    try {
      const { change, pendingGrants, token, latest } = await this.orm.em.transactional(async (em) => {
        const rows = await em.find(
          Organization,
          { id: { $in: [...new Set(organizationIds)] } },
          { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
        );
        const locked = new Map(rows.map((organization) => [organization.id, organization]));
        const change = await work(em, locked);
        for (const [organizationId, entries] of byOrganization(change.audit ?? [], home)) {
          if (entries.length === 0) continue;
          if (!locked.has(organizationId)) throw new Error(`An audit event names organization ${organizationId}, which this change did not lock`);
          await this.appendAudit(em, organizationId, entries);
        }
        const token = await this.applyBeforeCommit(em, change, (updates) => (possiblyApplied = updates));
        if (change.afterWrite) {
          const followed = await change.afterWrite(em, token ?? locked.get(home)?.zedToken ?? null);
          if (followed.length > 0) await this.appendAudit(em, home, followed);
        }
        const pendingGrants = change.grantAfterCommit?.length ? await this.outbox.enqueueGrants(em, change.grantAfterCommit, home) : [];
        if (token && !change.deletesOrganization) for (const organization of locked.values()) organization.zedToken = token;
        await em.flush();
        return { change, pendingGrants, token, latest: locked.get(home)?.zedToken ?? null };
      });
      const delivered = await this.relay.deliver(pendingGrants, home);
      // A write that changed no relationship (a rename) still answers a token: the organization's
      // newest, so every tenant write can be followed by an at_least_as_fresh check the same way.
      return { result: change.result, zedToken: delivered ?? token ?? latest };
    } catch (error) {
      if (possiblyApplied.length > 0) await this.resync(organizationIds, possiblyApplied);
      throw error;
    }
  }

  private async applyBeforeCommit<T>(
    em: EntityManager,
    change: GraphChange<T>,
    recordPossiblyApplied: (updates: RelationshipUpdate[]) => void,
  ): Promise<ZedToken | undefined> {
    if (change.supersede?.organization) await this.outbox.supersedeOrganization(em, change.supersede.organization);
    for (const resource of change.supersede?.resources ?? []) {
      await this.outbox.supersedeResource(em, resource.type, resource.id);
    }
    for (const subject of change.supersede?.subjects ?? []) {
      await this.outbox.supersedeSubject(em, subject.type, subject.id);
    }
    let token: ZedToken | undefined;
    if (change.writeBeforeCommit?.length) {
      await this.outbox.supersedePending(em, change.writeBeforeCommit.map((update) => update.relationship));
      // Before the call: a write that timed out may still have been applied.
      recordPossiblyApplied(change.writeBeforeCommit);
      token = await this.spicedb.writeRelationships(change.writeBeforeCommit);
    }
    // Deletions only ever take access away, so a failure part-way leaves SpiceDB granting less
    // than Postgres records (safe); reconcile restores the rest.
    for (const filter of change.deleteBeforeCommit ?? []) {
      token = await this.spicedb.deleteRelationships(filter);
    }
    return token;
  }

  /**
   * The change may be in SpiceDB while Postgres did not commit it (or did, and the commit's
   * answer was lost). Under a fresh lock on the organization, set each tuple it touched to what
   * Postgres records now: never blindly invert, which could re-grant what a concurrent change
   * revoked. If SpiceDB cannot be reached for this either, reconcile repairs it.
   */
  private async resync(organizationIds: string[], touched: RelationshipUpdate[]): Promise<void> {
    try {
      await this.orm.em.fork().transactional(async (em) => {
        const organizations = await em.find(
          Organization,
          { id: { $in: [...new Set(organizationIds)] } },
          { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } },
        );
        const recorded = new Set<string>();
        for (const organizationId of organizationIds) {
          for (const tuple of await recordedTuplesOf(em, organizationId)) recorded.add(tupleKey(tuple));
        }
        const token = await this.spicedb.writeRelationships(
          touched.map(({ relationship }) => ({
            operation: recorded.has(tupleKey(relationship)) ? 'touch' : 'delete',
            relationship,
          })),
        );
        for (const organization of organizations) organization.zedToken = token;
      });
    } catch (error) {
      this.logger.error({ err: error, tuples: touched.length }, 'could not resync tuples after a failed commit; run reconcile');
    }
  }
}

/** The entries grouped by the organization whose chain records them, the home's first. */
function byOrganization(entries: Array<AuditEntry & { organizationId?: string }>, home: string): Map<string, AuditEntry[]> {
  const grouped = new Map<string, AuditEntry[]>([[home, []]]);
  for (const { organizationId = home, ...entry } of entries) {
    const group = grouped.get(organizationId) ?? [];
    group.push(entry);
    grouped.set(organizationId, group);
  }
  return grouped;
}
