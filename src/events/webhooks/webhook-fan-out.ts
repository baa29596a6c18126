import type { EntityManager } from '@mikro-orm/postgresql';
import type { FeedEvent } from '../event-feed.ts';
import { matchesTypes } from '../event-catalogue.ts';
import type { Handled } from '../feed-follower.ts';

interface LiveEndpoint {
  id: string;
  event_types: string[] | null;
  organization_ids: string[] | null;
  account_organization_ids: string[] | null;
  created_at: Date | string;
}

/**
 * Who receives an event: every enabled endpoint of a live service account that may read it (an
 * account limited to organizations, only theirs; an event of no organization, only an unlimited
 * account's unfiltered endpoints), whose organizations and types select it, and that existed
 * when it happened.
 */
export function receives(endpoint: LiveEndpoint, event: FeedEvent): boolean {
  const organization = event.organizationId;
  const accountReads = endpoint.account_organization_ids === null || (organization !== null && endpoint.account_organization_ids.includes(organization));
  const endpointWants = endpoint.organization_ids === null || (organization !== null && endpoint.organization_ids.includes(organization));
  return accountReads && endpointWants && matchesTypes(event.type, endpoint.event_types) && event.occurredAt >= new Date(endpoint.created_at);
}

/**
 * The webhook fan-out, a FeedFollower's handler: each event becomes one pending delivery per
 * endpoint that receives it, in the same transaction that moves the fan-out's cursor, so no event
 * is fanned out twice or skipped. A delivery is unique per (endpoint, event).
 */
export async function fanOut(events: FeedEvent[], em: EntityManager): Promise<Handled> {
  const endpoints = await em.execute<LiveEndpoint[]>(
    `select e.id, e.event_types, e.organization_ids, e.created_at, a.organization_ids as account_organization_ids
       from webhook_endpoints e join service_accounts a on a.id = e.service_account_id
      where e.state = 'enabled' and a.revoked_at is null`,
  );
  const deliveries = events.flatMap((event) => endpoints.filter((endpoint) => receives(endpoint, event)).map((endpoint) => [endpoint.id, event.id]));
  for (let start = 0; start < deliveries.length; start += INSERT_BATCH) {
    const batch = deliveries.slice(start, start + INSERT_BATCH);
    await em.execute(
      `insert into webhook_deliveries (endpoint_id, event_id) values ${batch.map(() => '(?, ?)').join(', ')} on conflict do nothing`,
      batch.flat(),
      'run',
    );
  }
  return { done: events.length };
}

const INSERT_BATCH = 5000;
