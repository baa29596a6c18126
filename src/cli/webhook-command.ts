import { parseArgs } from 'node:util';
import { OPERATOR } from '../audit/audit-log.ts';
import type { Config } from '../config.ts';
import { ServiceAccount, WebhookEndpoint } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { NotFound } from '../errors.ts';
import { WebhookEndpointService } from '../services/webhook-endpoint.service.ts';

/**
 * `webhook ...`: an operator registers and manages webhook endpoints on a service account's
 * behalf, with the same rules as the API (WebhookEndpointService).
 */
export const WEBHOOK_USAGE = `       npm run cli -- webhook create ACCOUNT_ID URL [--types organization.member,resource.grant] [--org ORG_ID]... [--description TEXT]
       npm run cli -- webhook list ACCOUNT_ID
       npm run cli -- webhook rotate-secret ENDPOINT_ID [--overlap SECONDS]
       npm run cli -- webhook enable|disable|delete ENDPOINT_ID`;

const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

export async function webhookCommand(
  config: Config,
  args: string[],
  withOrm: <T>(run: (orm: Orm) => Promise<T>) => Promise<T>,
): Promise<number | null> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { types: { type: 'string' }, org: { type: 'string', multiple: true }, description: { type: 'string' }, overlap: { type: 'string' } },
  });
  const [action, id, url] = positionals;
  if (!action || !id) return null;
  return withOrm(async (orm) => {
    const endpoints = new WebhookEndpointService(orm, config.events.webhooks.allowPrivateUrls);
    if (action === 'create' && url) {
      const { endpoint, secret } = await endpoints.create(await accountOf(orm, id), {
        url,
        description: values.description,
        eventTypes: values.types ? values.types.split(',').map((type) => type.trim()).filter(Boolean) : null,
        organizationIds: values.org ?? null,
      }, OPERATOR);
      console.error(`Registered webhook endpoint ${endpoint.id} -> ${endpoint.url}. Its signing secret follows; it is shown only now:`);
      console.log(secret);
      return 0;
    }
    if (action === 'list') {
      for (const endpoint of await endpoints.list(await accountOf(orm, id))) {
        const state = endpoint.state === 'enabled' ? 'enabled' : `disabled (${endpoint.disabledReason ?? ''})`;
        console.log(`${endpoint.id}  ${endpoint.url}  types=${endpoint.eventTypes?.join(',') ?? 'all'}  orgs=${endpoint.organizationIds?.join(',') ?? 'all'}  ${state}`);
      }
      return 0;
    }
    const owner = await ownerOf(orm, id);
    if (action === 'rotate-secret') {
      const overlap = values.overlap === undefined ? undefined : Number(values.overlap);
      if (overlap !== undefined && !(Number.isInteger(overlap) && overlap >= 0 && overlap <= MAX_OVERLAP_SECONDS)) {
        console.error(`--overlap must be whole seconds from 0 to ${MAX_OVERLAP_SECONDS}`);
        return 2;
      }
      const { endpoint, secret } = await endpoints.rotateSecret(owner, id, overlap, OPERATOR);
      const until = endpoint.previousSecretExpiresAt ? `the old one also signs until ${endpoint.previousSecretExpiresAt.toISOString()}` : 'the old one no longer signs';
      console.error(`Rotated the secret of ${endpoint.id}; ${until}. The new secret follows; it is shown only now:`);
      console.log(secret);
      return 0;
    }
    if (action === 'enable' || action === 'disable') {
      const endpoint = await endpoints.update(owner, id, { enabled: action === 'enable' }, OPERATOR);
      console.log(`${endpoint.id} is ${endpoint.state}`);
      return 0;
    }
    if (action === 'delete') {
      await endpoints.delete(owner, id, OPERATOR);
      console.log(`Deleted webhook endpoint ${id}`);
      return 0;
    }
    return null;
  });
}

async function accountOf(orm: Orm, id: string): Promise<ServiceAccount> {
  const account = await orm.em.fork().findOne(ServiceAccount, { id, revokedAt: null });
  if (!account) throw new NotFound(`No live service account has id ${id}`);
  return account;
}

async function ownerOf(orm: Orm, endpointId: string): Promise<ServiceAccount> {
  const endpoint = await orm.em.fork().findOne(WebhookEndpoint, { id: endpointId });
  if (!endpoint) throw new NotFound(`No webhook endpoint has id ${endpointId}`);
  return accountOf(orm, endpoint.serviceAccountId);
}
