import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { z } from 'zod';
import type { StoredAuditEvent } from '../../audit/audit-log.ts';
import type { Api } from '../../http/route.ts';
import type { AuditPage, AuditService } from '../../services/audit.service.ts';
import { presentAuditEvent, presentCheckpoint } from './presenter.ts';
import { auditCheckpointResponse, auditEventResponse, auditExportQuery, auditParams, auditQuery, ownAuditQuery } from './schema.ts';

const tags = ['audit'];

export function auditRoutes(api: Api, audit: AuditService): void {
  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/audit-events',
    summary: "The organization's audit events, newest first (org:audit_log; next page in the Link header)",
    tags,
    params: auditParams,
    query: auditQuery,
    response: { status: 200, description: 'A page of audit events', schema: z.array(auditEventResponse) },
    errors: [403],
    handler: async (ctx, { actor, params, query }) => {
      const page = await audit.list(
        actor.userId,
        params.org_id,
        {
          action: query.action,
          actorId: query.actor_id,
          targetType: query.target_type,
          targetId: query.target_id,
          since: query.since,
          until: query.until,
        },
        { limit: query.limit, before: query.cursor },
      );
      return linkNextAuditPage(ctx, page);
    },
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/audit-events/export',
    summary:
      "The organization's audit events from `since` to `until`, oldest first (chain order), as NDJSON: one AuditEvent a line, " +
      'streamed with flat memory whatever the range (org:audit_log). A failure mid-stream ends the body without its last chunk.',
    tags,
    params: auditParams,
    query: auditExportQuery,
    response: {
      status: 200,
      description: 'application/x-ndjson: one AuditEvent (as in the list) per line',
      contentType: 'application/x-ndjson',
      headers: {
        'Audit-Checkpoint':
          'The signed checkpoint (compact JWS) of the chain head the export stops at, when the service has an AUDIT_CHECKPOINT_KEY: ' +
          'keep it, and `npm run cli -- audit verify --checkpoint FILE` later proves the chain was not rewritten or cut short',
      },
    },
    errors: [403],
    handler: async (ctx, { actor, params, query }) => {
      const { events, checkpoint } = await audit.export(actor.userId, params.org_id, { since: query.since, until: query.until });
      if (checkpoint) ctx.set('Audit-Checkpoint', checkpoint.signature);
      ctx.type = 'application/x-ndjson';
      // Readable.from pulls the next event only as the socket drains: backpressure down to the batched reader.
      ctx.body = Readable.from(ndjson(events));
    },
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/orgs/{org_id}/audit-checkpoint',
    summary:
      "A signed checkpoint of the organization's audit chain head (org:audit_log): keep it outside this service; " +
      '`npm run cli -- audit verify --checkpoint FILE` proves the chain still holds it. 501 without AUDIT_CHECKPOINT_KEY',
    tags,
    params: auditParams,
    response: { status: 200, description: 'The checkpoint', schema: auditCheckpointResponse },
    errors: [403, 501],
    handler: async (_ctx, { actor, params }) => presentCheckpoint(await audit.checkpoint(actor.userId, params.org_id)),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/auth/me/audit-checkpoint',
    summary: "A signed checkpoint of the caller's own session chain. 501 without AUDIT_CHECKPOINT_KEY",
    tags,
    response: { status: 200, description: 'The checkpoint', schema: auditCheckpointResponse },
    errors: [501],
    handler: async (_ctx, { actor }) => presentCheckpoint(await audit.checkpointOwn(actor.userId)),
  });

  api.addAuthenticated({
    method: 'get',
    path: '/api/v1/auth/me/audit-events',
    summary: "The caller's own session events (signed in, sign-in failed, signed out), newest first; next page in the Link header",
    tags,
    query: ownAuditQuery,
    response: { status: 200, description: 'A page of audit events', schema: z.array(auditEventResponse) },
    handler: async (ctx, { actor, query }) => {
      const page = await audit.listOwn(
        actor.userId,
        { action: query.action, since: query.since, until: query.until },
        { limit: query.limit, before: query.cursor },
      );
      return linkNextAuditPage(ctx, page);
    },
  });
}

/** The next (older) page's URL goes in a Link header, the same query with the position it ends at. */
function linkNextAuditPage(ctx: Context, page: AuditPage) {
  if (page.nextBefore !== undefined) {
    const next = new URLSearchParams(ctx.querystring);
    next.set('cursor', String(page.nextBefore));
    ctx.set('Link', `<${ctx.path}?${next.toString()}>; rel="next"`);
  }
  return page.items.map(presentAuditEvent);
}

async function* ndjson(events: AsyncIterable<StoredAuditEvent>): AsyncGenerator<string> {
  for await (const event of events) yield `${JSON.stringify(presentAuditEvent(event))}\n`;
}
