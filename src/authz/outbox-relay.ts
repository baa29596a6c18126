import type { EntityManager } from '@mikro-orm/postgresql';
import { PollLoop } from '../background/poll-loop.ts';
import type { Orm } from '../db/orm.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { tupleKey } from './relationships.ts';
import { SpiceDbRejected, type SpiceDbClient } from './spicedb.client.ts';
import type { Relationship, RelationshipUpdate, ZedToken } from './types.ts';

/**
 * Delivers the outbox's grants to SpiceDB: right after the commit that wrote them (`deliver`),
 * and in the background for whatever that left behind, with backoff while SpiceDB cannot take
 * them. TOUCH is idempotent, so a redelivery is harmless.
 */

interface ClaimedRow {
  id: string;
  resource_type: string;
  resource_id: string;
  relation: string;
  subject_type: string;
  subject_id: string;
  subject_relation: string;
  expires_at: Date | string | null;
  organization_id: string | null;
  attempts: number;
}

const BATCH_SIZE = 500;
const BASE_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 60_000;

const COLUMNS = 'id, resource_type, resource_id, relation, subject_type, subject_id, subject_relation, expires_at, organization_id, attempts';

// The relay: SKIP LOCKED, so several instances (and post-commit deliveries) claim disjoint rows;
// a crash releases the locks and leaves the rows claimable again.
const CLAIM_DUE_SQL = `
  select ${COLUMNS} from relationship_outbox
   where next_attempt_at <= now()
   order by id limit ?
     for update skip locked`;

// A post-commit delivery of its own rows: waits for a relay that holds them, then finds them gone.
const CLAIM_OWN_SQL = `select ${COLUMNS} from relationship_outbox where id = any(?::bigint[]) order by id for update`;

export class OutboxRelay {
  private readonly loop: PollLoop;

  private readonly orm: Orm;
  private readonly spicedb: SpiceDbClient;
  private readonly metrics: Metrics;
  private readonly logger: Logger;

  constructor(orm: Orm, spicedb: SpiceDbClient, metrics: Metrics, logger: Logger, pollMs: number) {
    this.orm = orm;
    this.spicedb = spicedb;
    this.metrics = metrics;
    this.logger = logger;
    // A cycle drains, then reports the backlog; rows SpiceDB could not take carry their own backoff.
    this.loop = new PollLoop({
      name: 'outbox relay',
      intervalMs: pollMs,
      logger,
      cycle: async () => {
        try {
          await this.drain();
        } finally {
          await this.reportBacklog();
        }
        return 'idle';
      },
    });
  }

  /**
   * Delivers rows right after the caller's commit, so the caller's next request sees them.
   * Returns the organization's ZedToken once they are in SpiceDB (also when the relay got there
   * first). A failure is logged, not thrown: the grant is committed and the relay retries it.
   */
  async deliver(ids: string[], organizationId: string | null): Promise<ZedToken | null> {
    if (ids.length === 0) return null;
    try {
      return await this.orm.em.fork().transactional(async (em) => {
        // Organization first, then outbox rows: the order revocations take them in.
        if (organizationId) await lockOrganizations(em, [organizationId], 'wait');
        const rows = await em.execute<ClaimedRow[]>(CLAIM_OWN_SQL, [postgresArray(ids)]);
        let writtenAt: ZedToken | null = null;
        const written = (token: ZedToken) => (writtenAt = token);
        if (rows.length > 0 && (await this.writeAndRetire(em, rows, organizationId ? [organizationId] : [], written)) < rows.length) {
          return null;
        }
        // Rows of no organization (a policy module's objects not attached to a tenant): the write's own token.
        if (!organizationId) return writtenAt;
        const [row] = await em.execute<Array<{ zed_token: string | null }>>('select zed_token from organizations where id = ?', [
          organizationId,
        ]);
        return row?.zed_token ?? null;
      });
    } catch (error) {
      this.logger.warn({ err: error, rows: ids.length }, 'post-commit outbox delivery failed; the relay will retry');
      return null;
    }
  }

  /** Delivers everything due, batch by batch, until a batch comes back short or fails. */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const batch = await this.relayBatch();
      delivered += batch;
      if (batch < BATCH_SIZE) return delivered;
    }
  }

  async backlog(): Promise<number> {
    const [row] = await this.orm.em.fork().execute<Array<{ count: string }>>('select count(*) from relationship_outbox');
    return Number(row?.count ?? 0);
  }

  /** Polls for due rows every pollMs until stop(). Calling it while started does nothing. */
  start(): void {
    this.loop.start();
  }

  /** Stops polling and waits for a cycle in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  private async reportBacklog(): Promise<void> {
    try {
      this.metrics.outboxBacklog.set(await this.backlog());
    } catch {
      // Postgres is down; /readyz reports it.
    }
  }

  /**
   * Claims due rows and delivers them in one Postgres transaction. The relay cannot know the
   * organizations before claiming rows, so it locks them SKIP LOCKED: rows of an organization a
   * revocation holds right now wait for the next cycle, the others go. It never waits while
   * holding rows, so it cannot deadlock. Returns how many rows were delivered.
   */
  private async relayBatch(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const rows = await em.execute<ClaimedRow[]>(CLAIM_DUE_SQL, [BATCH_SIZE]);
      if (rows.length === 0) return 0;
      const organizations = [...new Set(rows.flatMap((row) => (row.organization_id ? [row.organization_id] : [])))];
      const locked = await lockOrganizations(em, organizations, 'skip-locked');
      const deliverable = rows.filter((row) => !row.organization_id || locked.has(row.organization_id));
      return deliverable.length > 0 ? this.writeAndRetire(em, deliverable, [...locked]) : 0;
    });
  }

  /**
   * Writes claimed rows to SpiceDB in one atomic call, deletes them, and stores the ZedToken on
   * their (locked) organizations, so the tokens stored only ever move forward. If SpiceDB cannot
   * be reached the rows are postponed with backoff; if it refuses the batch, each row is tried
   * alone, so one bad row cannot hold up the others. Returns how many rows were delivered.
   */
  private async writeAndRetire(
    em: EntityManager,
    rows: ClaimedRow[],
    lockedOrganizations: string[],
    written: (token: ZedToken) => void = () => {},
  ): Promise<number> {
    let writtenAt: ZedToken;
    try {
      writtenAt = await this.spicedb.writeRelationships(onePerTuple(rows));
    } catch (error) {
      if (error instanceof SpiceDbRejected && rows.length > 1) {
        let delivered = 0;
        for (const row of rows) delivered += await this.writeAndRetire(em, [row], lockedOrganizations, written);
        return delivered;
      }
      this.logger.warn({ err: error, rows: rows.length }, 'outbox delivery failed; retrying with backoff');
      await this.postpone(em, rows, error);
      return 0;
    }
    await em.execute('delete from relationship_outbox where id = any(?::bigint[])', [postgresArray(rows.map((row) => row.id))]);
    written(writtenAt);
    const touched = lockedOrganizations.filter((organization) => rows.some((row) => row.organization_id === organization));
    if (touched.length > 0) {
      await em.execute('update organizations set zed_token = ? where id = any(?::uuid[])', [writtenAt, postgresArray(touched)]);
    }
    return rows.length;
  }

  private async postpone(em: EntityManager, rows: ClaimedRow[], error: unknown): Promise<void> {
    const attempts = Math.max(...rows.map((row) => row.attempts)) + 1;
    const delayMs = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(attempts, 16));
    const jitteredMs = Math.round(delayMs * (0.5 + Math.random() / 2));
    await em.execute(
      `update relationship_outbox
          set attempts = attempts + 1, last_error = ?, next_attempt_at = now() + (? * interval '1 millisecond')
        where id = any(?::bigint[])`,
      [
        error instanceof Error ? error.message.slice(0, 1000) : String(error),
        jitteredMs,
        postgresArray(rows.map((row) => row.id)),
      ],
    );
  }
}

/** One TOUCH per tuple: SpiceDB rejects a write naming a tuple twice. */
function onePerTuple(rows: ClaimedRow[]): RelationshipUpdate[] {
  const updates = new Map<string, RelationshipUpdate>();
  for (const row of rows) {
    const relationship: Relationship = {
      resource: { type: row.resource_type, id: row.resource_id },
      relation: row.relation,
      subject: { type: row.subject_type, id: row.subject_id, ...(row.subject_relation && { relation: row.subject_relation }) },
      ...(row.expires_at && { expiresAt: new Date(row.expires_at) }),
    };
    updates.set(tupleKey(relationship), { operation: 'touch', relationship });
  }
  return [...updates.values()];
}

/** A Postgres array literal, bound as one parameter (the query builder would expand a JS array). */
function postgresArray(values: string[]): string {
  return `{${values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

/** Locks organization rows in id order; with 'skip-locked', returns the ones it could lock now. */
async function lockOrganizations(em: EntityManager, ids: string[], mode: 'wait' | 'skip-locked'): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await em.execute<Array<{ id: string }>>(
    `select id from organizations where id = any(?::uuid[]) order by id for update${mode === 'skip-locked' ? ' skip locked' : ''}`,
    [postgresArray([...ids].sort())],
  );
  return new Set(rows.map((row) => row.id));
}
