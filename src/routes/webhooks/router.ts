import { z } from 'zod';
import type { Api } from '../../http/route.ts';
import type { WebhookEndpointService } from '../../services/webhook-endpoint.service.ts';
import { presentAttempt, presentEndpoint, presentEndpointWithSecret } from './presenter.ts';
import {
  attemptResponse,
  attemptsQuery,
  endpointChangesBody,
  endpointParams,
  endpointResponse,
  endpointWithSecretResponse,
  newEndpointBody,
  resendBody,
  rotateSecretBody,
} from './schema.ts';

const tags = ['webhooks'];
const BASE = '/api/v1/webhook-endpoints';

/** Standard Webhooks endpoints, registered and managed by the service account that owns them. */
export function webhookRoutes(api: Api, endpoints: WebhookEndpointService): void {
  api.addForServices({
    method: 'post',
    path: BASE,
    summary: 'Registers a webhook endpoint; its signing secret is in this answer only',
    tags,
    body: newEndpointBody,
    response: { status: 201, description: 'The endpoint and its secret', schema: endpointWithSecretResponse },
    errors: [409],
    handler: async (_ctx, { actor, body }) =>
      presentEndpointWithSecret(
        await endpoints.create(actor, {
          url: body.url,
          description: body.description,
          eventTypes: body.event_types,
          organizationIds: body.organization_ids,
        }),
      ),
  });

  api.addForServices({
    method: 'get',
    path: BASE,
    summary: "The service account's webhook endpoints",
    tags,
    response: { status: 200, description: 'Its endpoints, oldest first', schema: z.array(endpointResponse) },
    handler: async (_ctx, { actor }) => (await endpoints.list(actor)).map(presentEndpoint),
  });

  api.addForServices({
    method: 'get',
    path: `${BASE}/{endpoint_id}`,
    summary: 'One webhook endpoint (never its secret)',
    tags,
    params: endpointParams,
    response: { status: 200, description: 'The endpoint', schema: endpointResponse },
    errors: [404],
    handler: async (_ctx, { actor, params }) => presentEndpoint(await endpoints.get(actor, params.endpoint_id)),
  });

  api.addForServices({
    method: 'patch',
    path: `${BASE}/{endpoint_id}`,
    summary: 'Changes its URL, description, filters, or whether it is enabled',
    tags,
    params: endpointParams,
    body: endpointChangesBody,
    response: { status: 200, description: 'The endpoint as it is now', schema: endpointResponse },
    errors: [404],
    handler: async (_ctx, { actor, params, body }) =>
      presentEndpoint(
        await endpoints.update(actor, params.endpoint_id, {
          url: body.url,
          description: body.description,
          eventTypes: body.event_types,
          organizationIds: body.organization_ids,
          enabled: body.enabled,
        }),
      ),
  });

  api.addForServices({
    method: 'delete',
    path: `${BASE}/{endpoint_id}`,
    summary: 'Deletes the endpoint with its pending deliveries and its attempts',
    tags,
    params: endpointParams,
    response: { status: 204, description: 'Deleted' },
    errors: [404],
    handler: async (_ctx, { actor, params }) => endpoints.delete(actor, params.endpoint_id),
  });

  api.addForServices({
    method: 'post',
    path: `${BASE}/{endpoint_id}/secret/rotate`,
    summary: 'A new signing secret (in this answer only); the old one keeps signing beside it for overlap_seconds',
    tags,
    params: endpointParams,
    body: rotateSecretBody,
    response: { status: 200, description: 'The endpoint and its new secret', schema: endpointWithSecretResponse },
    errors: [404],
    handler: async (_ctx, { actor, params, body }) => presentEndpointWithSecret(await endpoints.rotateSecret(actor, params.endpoint_id, body.overlap_seconds)),
  });

  api.addForServices({
    method: 'get',
    path: `${BASE}/{endpoint_id}/attempts`,
    summary: 'Its delivery attempts, newest first (next page in the Link header)',
    tags,
    params: endpointParams,
    query: attemptsQuery,
    response: { status: 200, description: 'A page of attempts', schema: z.array(attemptResponse) },
    errors: [404],
    handler: async (ctx, { actor, params, query }) => {
      const page = await endpoints.attempts(actor, params.endpoint_id, { limit: query.limit, before: query.cursor });
      if (page.nextBefore !== undefined) {
        const next = new URLSearchParams({ limit: String(query.limit), cursor: String(page.nextBefore) });
        ctx.set('Link', `<${ctx.path}?${next.toString()}>; rel="next"`);
      }
      return page.items.map(presentAttempt);
    },
  });

  api.addForServices({
    method: 'post',
    path: `${BASE}/{endpoint_id}/resend`,
    summary: 'Sends an event to the endpoint again, with the same webhook-id, and a fresh round of retries',
    tags,
    params: endpointParams,
    body: resendBody,
    response: { status: 202, description: 'Queued for delivery' },
    errors: [404, 409],
    handler: async (_ctx, { actor, params, body }) => endpoints.resend(actor, params.endpoint_id, body.event_id),
  });
}
