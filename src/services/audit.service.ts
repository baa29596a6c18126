import { AUDIT_COLUMNS, fromAuditRow, type AuditRow, type StoredAuditEvent } from '../audit/audit-log.ts';
import type { TenantAccess } from '../authz/access.ts';
import type { Orm } from '../db/orm.ts';

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

/** Reading an organization's audit log (org:audit_log). */
export class AuditService {
  private readonly orm: Orm;
  private readonly access: TenantAccess;

  constructor(orm: Orm, access: TenantAccess) {
    this.orm = orm;
    this.access = access;
  }

  /** Newest first, paged by chain position (a keyset that never skips or repeats under concurrent writes). */
  async list(actorId: string, organizationId: string, filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage> {
    const em = this.orm.em.fork();
    await this.access.organization(em, actorId, organizationId, 'org:audit_log');
    const { limit } = page;
    const { where, params } = conditions(organizationId, filter);
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
}

function conditions(organizationId: string, filter: AuditFilter): { where: string[]; params: unknown[] } {
  const where = ['organization_id = ?'];
  const params: unknown[] = [organizationId];
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
