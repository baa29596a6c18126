import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { replayRecordedRelationships } from './authz/relationship-snapshot.ts';
import type { RelationshipOutbox } from './authz/outbox.ts';
import type { OutboxRelay } from './authz/outbox-relay.ts';
import type { MailRelay } from './mail/mail-relay.ts';
import type { WebhookDispatcher } from './events/webhooks/webhook-dispatcher.ts';
import type { SpiceDbClient } from './authz/spicedb.client.ts';
import type { Policy } from './authz/policy-modules.ts';
import type { Config } from './config.ts';
import type { Orm } from './db/orm.ts';
import { composeApplication, type Foundations } from './composition.ts';
import type { RouteServices } from './routes/index.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { openStores } from './stores.ts';
import { trackConnections } from './http/graceful-close.ts';
import { holdEmbeddedSpiceDbLock } from './db/instance-lock.ts';
import { auditCheckpoints } from './audit/audit-checkpoint-log.ts';
import { auditRetention } from './audit/audit-retention.ts';
import { eventRetention } from './events/event-retention.ts';
import { NatsPublisher } from './events/nats-publisher.ts';

export interface RunningService {
  /** Where a client on this machine reaches the HTTP server, e.g. http://127.0.0.1:8080 for a 0.0.0.0 bind. */
  url: string;
  orm: Orm;
  spicedb: SpiceDbClient;
  /** schema.zed and the policy modules, as written to SpiceDB at boot. */
  policy: Policy;
  outbox: RelationshipOutbox;
  relay: OutboxRelay;
  mailRelay: MailRelay;
  webhooks: WebhookDispatcher;
  services: RouteServices;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes the stores. */
  stop(): Promise<void>;
}

/**
 * Boot, in order: the database (created if missing, migrated), SpiceDB (schema written; tuples
 * replayed from Postgres when it is the in-memory embedded one), then the HTTP listener.
 */
export async function startService(config: Config, logger: Logger, options: Pick<Foundations, 'appendAudit'> = {}): Promise<RunningService> {
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await Promise.resolve(close()).catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    }
  };
  try {
    const metrics = new Metrics();
    const { databaseUrl, orm, spicedb, policy, revocations, close } = await openStores(config, logger, metrics);
    closers.push(close);
    if (spicedb.mode === 'embedded') {
      const lock = await holdEmbeddedSpiceDbLock(databaseUrl);
      if (!lock) {
        throw new Error(
          'Another instance with an embedded SpiceDB already serves this database. Embedded SpiceDB allows one ' +
            'instance; to run several, set SPICEDB_ENDPOINT to a shared spicedb server.',
        );
      }
      closers.push(() => lock.release());
      const replayed = await replayRecordedRelationships(orm.em.fork(), spicedb);
      logger.info({ relationships: replayed }, 'replayed Postgres relationships into embedded SpiceDB');
    }

    const { app, services, outbox, relay, mailRelay, checkpointSigner, webhooks } = await composeApplication({
      config,
      logger,
      metrics,
      orm,
      spicedb,
      policy,
      revocations,
      ...options,
    });
    // Whatever an earlier process committed but did not deliver goes out first.
    await relay.drain();
    relay.start();
    closers.push(() => relay.stop());
    mailRelay.start();
    closers.push(() => mailRelay.stop());
    const auditJobs = [
      ...(config.audit.retentionDays === null ? [] : [auditRetention(orm, logger, config.audit.retentionDays)]),
      ...(checkpointSigner ? [auditCheckpoints(orm, checkpointSigner, logger, config.audit.checkpointIntervalSeconds)] : []),
    ];
    for (const job of auditJobs) {
      job.start();
      closers.push(() => job.stop());
    }
    if (!checkpointSigner) {
      logger.warn('AUDIT_CHECKPOINT_KEY is unset: no audit checkpoints are signed, so whoever can write the database can rewrite the audit log undetected');
    }
    await webhooks.start();
    closers.push(() => webhooks.stop());
    if (config.events.nats) {
      const publisher = new NatsPublisher(orm, logger, { ...config.events, nats: config.events.nats });
      await publisher.start();
      closers.push(() => publisher.stop());
    }
    const events = eventRetention(orm, logger, config.events.retentionDays);
    events.start();
    closers.push(() => events.stop());
    if (config.mail.smtpUrl) logger.info({ mail: 'smtp' }, 'mail (invitations) is sent through SMTP_URL');
    else logger.info({ mail: 'log' }, 'SMTP_URL is unset: invitation mails are logged at info level (with their link), not sent');

    const server = app.listen(config.http.port, config.http.host);
    const connections = trackConnections(server);
    await once(server, 'listening');
    closers.push(() => connections.close(config.http.shutdownGraceMs));
    const address = server.address() as AddressInfo;
    const bound = hostPort(address.address, address.port);
    const docs = `${browsableOrigin(address, config.http.host)}/docs`;
    logger.info({ address: bound, docs, spicedb: spicedb.mode, database: config.database.mode }, `listening on ${bound}; API docs at ${docs}`);
    const url = `http://${hostPort(loopbackFor(address.address), address.port)}`;

    return { url, orm, spicedb, policy, outbox, relay, mailRelay, webhooks, services, stop: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A wildcard bind is reached locally through the loopback address. */
function loopbackFor(address: string): string {
  return WILDCARDS.has(address) ? '127.0.0.1' : address;
}

/** What to click in a terminal: localhost for a wildcard or loopback bind, the configured host otherwise. */
function browsableOrigin(address: AddressInfo, configuredHost: string): string {
  const local = WILDCARDS.has(address.address) || address.address === '127.0.0.1' || address.address === '::1';
  return `http://${local ? `localhost:${address.port}` : hostPort(configuredHost, address.port)}`;
}
