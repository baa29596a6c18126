import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { PollLoop } from '../background/poll-loop.ts';
import { ChannelListener } from '../db/channel-listener.ts';
import type { Orm } from '../db/orm.ts';
import { DatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

const CHANNEL = 'tenant_authz_session_revocations';
/** Names the listening connection in pg_stat_activity. */
export const APPLICATION_NAME = 'tenant-authz session revocations';
/** Access tokens are accepted this much past `exp` (src/services/access-tokens.ts). */
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * The sessions (`sid`) ended by logout or refresh-token reuse, kept in Postgres (`revoked_sessions`)
 * and mirrored in memory on every instance through LISTEN/NOTIFY, so refusing a revoked token costs
 * a Set lookup, not a round trip. The NOTIFY is sent inside the revoking transaction, so it is
 * delivered exactly when the revocation commits. On (re)connect the instance listens first, then
 * reloads the table, so nothing committed while it was deaf is missed. While the channel is down
 * every lookup asks Postgres instead, and answers 503 when Postgres cannot: fail closed.
 */
export class SessionRevocations {
  private readonly instance = randomUUID();
  /** Session id → when its last access token expires (ms); pruned as they pass. */
  private readonly revoked = new Map<string, number>();
  private listener: ChannelListener | undefined;
  private pruning: PollLoop | undefined;

  private readonly orm: Orm;
  private readonly accessTtlSeconds: number;
  private readonly metrics: Metrics;

  private constructor(orm: Orm, accessTtlSeconds: number, metrics: Metrics) {
    this.orm = orm;
    this.accessTtlSeconds = accessTtlSeconds;
    this.metrics = metrics;
  }

  static async open(
    databaseUrl: string,
    orm: Orm,
    accessTtlSeconds: number,
    metrics: Metrics,
    logger: Logger,
  ): Promise<SessionRevocations> {
    const revocations = new SessionRevocations(orm, accessTtlSeconds, metrics);
    revocations.listener = await ChannelListener.open({
      databaseUrl,
      channel: CHANNEL,
      applicationName: APPLICATION_NAME,
      logger,
      onMessage: (payload) => revocations.heard(payload),
      onUp: async (connection) => {
        // After LISTEN: whatever commits from here on is heard, whatever committed before is loaded.
        const { rows } = await connection.query<{ session_id: string; expires_at: Date }>(
          'select session_id, expires_at from revoked_sessions where expires_at > now()',
        );
        for (const row of rows) revocations.revoked.set(row.session_id, row.expires_at.getTime());
        metrics.sessionRevocationChannelUp.set(1);
      },
      onDown: () => metrics.sessionRevocationChannelUp.set(0),
    });
    revocations.pruning = PollLoop.every('session revocation prune', 60_000, logger, () => revocations.prune());
    revocations.pruning.start();
    return revocations;
  }

  async close(): Promise<void> {
    await this.pruning?.stop();
    await this.listener?.close();
  }

  /**
   * Records the session as ended, inside the caller's transaction; every instance hears of it when
   * that transaction commits. Call `remember` after the commit so this instance refuses at once.
   */
  async revoke(em: EntityManager, sessionId: string): Promise<void> {
    const expiresAt = new Date(Date.now() + (this.accessTtlSeconds + CLOCK_TOLERANCE_SECONDS) * 1000);
    await em.execute(
      `insert into revoked_sessions (session_id, expires_at) values (?, ?)
       on conflict (session_id) do update set expires_at = greatest(revoked_sessions.expires_at, excluded.expires_at)`,
      [sessionId, expiresAt],
    );
    await em.execute('select pg_notify(?, ?)', [CHANNEL, `${this.instance} ${Date.now()} ${sessionId} ${expiresAt.getTime()}`]);
  }

  /** This instance's own revocation, known before its NOTIFY comes back. */
  remember(sessionId: string): void {
    this.revoked.set(sessionId, Date.now() + (this.accessTtlSeconds + CLOCK_TOLERANCE_SECONDS) * 1000);
  }

  /** In memory while the channel is up; from Postgres while it is down (503 if Postgres cannot answer). */
  async isRevoked(sessionId: string): Promise<boolean> {
    if (this.revoked.has(sessionId)) return true;
    if (this.listener?.connection) return false;
    try {
      const rows = await this.orm.em
        .fork()
        .execute<Array<{ found: number }>>('select 1 as found from revoked_sessions where session_id = ? and expires_at > now()', [
          sessionId,
        ]);
      return rows.length > 0;
    } catch (error) {
      throw new DatabaseUnavailable({ cause: error });
    }
  }

  private heard(payload: string): void {
    const [instance, sentAt, sessionId, expiresAt] = payload.split(' ');
    if (!sessionId) return;
    this.revoked.set(sessionId, Number(expiresAt) || Date.now() + this.accessTtlSeconds * 1000);
    const sentAtMs = Number(sentAt);
    if (instance !== this.instance && Number.isFinite(sentAtMs)) {
      this.metrics.sessionRevocationPropagation.observe(Math.max(0, Date.now() - sentAtMs) / 1000);
    }
  }

  private async prune(): Promise<void> {
    const now = Date.now();
    for (const [sessionId, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(sessionId);
    await this.orm.em.fork().execute('delete from revoked_sessions where expires_at < now()');
  }
}
