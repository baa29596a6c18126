import type { EntityManager } from '@mikro-orm/postgresql';
import {
  AUDIT_COLUMNS,
  chainAnchorOf,
  chainCondition,
  eventsInChainOrder,
  fromAuditRow,
  organizationChain,
  type AuditChainRef,
  type AuditRow,
  type StoredAuditEvent,
} from '../audit/audit-log.ts';
import type { Checkpoint, CheckpointSigner } from '../audit/audit-checkpoint.ts';
import { checkpointChain } from '../audit/audit-checkpoint-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { Orm } from '../db/orm.ts';
import { NotImplemented } from '../errors.ts';

export interface AuditFilter {
  /** An exact action, or a dotted prefix of one (`org.member` matches `org.member.added`). */
  action?: string | undefined;
  actorId?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

export interface AuditPageRequest {
  limit: number;
  /** The chain position the previous page ended at; this page holds older events. */
  before?: number | undefined;
}

export interface AuditPage {
  items: StoredAuditEvent[];
  /** The position the next (older) page starts before; absent on the last page. */
  nextBefore?: number | undefined;
}

export interface AuditExport {
  events: AsyncGenerator<StoredAuditEvent>;
  /** The signed head the export stops at; absent without AUDIT_CHECKPOINT_KEY. */
  checkpoint: Checkpoint | undefined;
}

/** Reading the audit log: an organization's (org:audit_log), and a user's own session events. */
export class AuditService {
  private readonly orm: Orm;
  private readonly access: TenantAccess;
  private readonly signer: CheckpointSigner | undefined;

  constructor(orm: Orm, access: TenantAccess, signer: CheckpointSigner | undefined) {
    this.orm = orm;
    this.access = access;
    this.signer = signer;
  }

  /** Newest first, paged by chain position (a keyset that never skips or repeats under concurrent writes). */
  async list(actorId: string, organizationId: string, filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage> {
    const em = this.orm.em.fork();
    await this.access.organization(em, actorId, organizationId, 'org:audit_log');
    return pageOf(em, organizationChain(organizationId), filter, page);
  }

  /** The caller's own chain: their sign-ins, failed sign-ins and sign-outs. Anyone may read their own. */
  async listOwn(userId: string, filter: Pick<AuditFilter, 'action' | 'since' | 'until'>, page: AuditPageRequest): Promise<AuditPage> {
    return pageOf(this.orm.em.fork(), { type: 'user', id: userId }, filter, page);
  }

  /**
   * The organization's events in chain order (oldest first) from `since` to `until`, read a batch
   * at a time as the consumer pulls: memory stays flat whatever the range. The access check runs
   * before the first event; the walk stops at the head the export started at, which is the one
   * its checkpoint signs.
   */
  async export(actorId: string, organizationId: string, range: Pick<AuditFilter, 'since' | 'until'>): Promise<AuditExport> {
    const em = this.orm.em.fork();
    await this.access.organization(em, actorId, organizationId, 'org:audit_log');
    const chain = organizationChain(organizationId);
    const checkpoint = this.signer && (await checkpointChain(em, this.signer, chain));
    const [anchor, head] = await Promise.all([chainAnchorOf(em, chain), checkpoint?.position ?? headPosition(em, chain)]);
    return { events: eventsInChainOrder(em, chain, { after: anchor.position, upTo: head, since: range.since, until: range.until }), checkpoint };
  }

  /** A signed checkpoint of the organization's chain head (org:audit_log), for the reader to keep outside the database. */
  async checkpoint(actorId: string, organizationId: string): Promise<Checkpoint> {
    const em = this.orm.em.fork();
    await this.access.organization(em, actorId, organizationId, 'org:audit_log');
    return checkpointChain(em, this.requireSigner(), organizationChain(organizationId));
  }

  /** A signed checkpoint of the caller's own chain. */
  async checkpointOwn(userId: string): Promise<Checkpoint> {
    return checkpointChain(this.orm.em.fork(), this.requireSigner(), { type: 'user', id: userId });
  }

  private requireSigner(): CheckpointSigner {
    if (!this.signer) throw new NotImplemented('Audit checkpoints are off: this service has no AUDIT_CHECKPOINT_KEY');
    return this.signer;
  }
}

async function pageOf(em: EntityManager, chain: AuditChainRef, filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage> {
  const { limit } = page;
  const { where, params } = conditions(chain, filter);
  if (page.before !== undefined) {
    where.push('position < ?');
    params.push(page.before);
  }
  const rows = await em.execute<AuditRow[]>(
    `select ${AUDIT_COLUMNS} from audit_events where ${where.join(' and ')} order by position desc limit ?`,
    [...params, limit + 1],
  );
  const items = rows.slice(0, limit).map(fromAuditRow);
  const last = items.at(-1);
  return { items, nextBefore: rows.length > limit && last ? last.position : undefined };
}

async function headPosition(em: EntityManager, chain: AuditChainRef): Promise<number> {
  const { sql, params } = chainCondition(chain);
  const [row] = await em.execute<Array<{ head: string | null }>>(`select max(position) as head from audit_events where ${sql}`, params);
  return Number(row?.head ?? 0);
}

function conditions(chain: AuditChainRef, filter: AuditFilter): { where: string[]; params: unknown[] } {
  const { sql, params: chainParams } = chainCondition(chain);
  const where = [sql];
  const params: unknown[] = [...chainParams];
  if (filter.action !== undefined) {
    where.push(`(action = ? or action like ? escape '\\')`);
    params.push(filter.action, `${filter.action.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`);
  }
  if (filter.actorId !== undefined) {
    where.push('actor_id = ?');
    params.push(filter.actorId);
  }
  if (filter.targetType !== undefined) {
    where.push('target_type = ?');
    params.push(filter.targetType);
  }
  if (filter.targetId !== undefined) {
    where.push('target_id = ?');
    params.push(filter.targetId);
  }
  if (filter.since !== undefined) {
    where.push('occurred_at >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push('occurred_at < ?');
    params.push(filter.until);
  }
  return { where, params };
}
