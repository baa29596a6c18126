import { z } from 'zod';
import type { Api } from '../../http/route.ts';
import type { HealthService } from '../../services/health.service.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { Unavailable } from '../../errors.ts';

const liveness = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });
const readiness = z
  .object({
    status: z.literal('ready'),
    checks: z.object({ postgres: z.literal('ok'), spicedb: z.literal('ok') }),
  })
  .meta({ id: 'Readiness' });

export function healthRoutes(api: Api, health: HealthService, metrics: Metrics): void {
  api.add({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process is up',
    tags: ['operations'],
    response: { status: 200, description: 'The process answers', schema: liveness },
    handler: async () => ({ status: 'ok' as const }),
  });

  api.add({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: Postgres and SpiceDB both answer',
    tags: ['operations'],
    response: { status: 200, description: 'Both backing stores answer', schema: readiness },
    errors: [503],
    handler: async () => {
      const checks = await health.readiness();
      const failing = Object.entries(checks)
        .filter(([, reachable]) => !reachable)
        .map(([store]) => store);
      if (failing.length > 0) throw new Unavailable(`Not ready: ${failing.join(' and ')} did not answer`);
      return { status: 'ready' as const, checks: { postgres: 'ok' as const, spicedb: 'ok' as const } };
    },
  });

  api.add({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    response: { status: 200, description: 'Metrics in the Prometheus text format', contentType: 'text/plain' },
    handler: async (ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  });
}
