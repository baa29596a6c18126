import { z } from 'zod';
import type { Api } from '../../http/route.ts';
import type { AuditService } from '../../services/audit.service.ts';
import { presentAuditEvent } from './presenter.ts';
import { auditEventResponse, auditParams, auditQuery } from './schema.ts';

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
      if (page.nextBefore !== undefined) {
        const next = new URLSearchParams(ctx.querystring);
        next.set('cursor', String(page.nextBefore));
        ctx.set('Link', `<${ctx.path}?${next.toString()}>; rel="next"`);
      }
      return page.items.map(presentAuditEvent);
    },
  });
}
