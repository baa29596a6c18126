import type { Api } from '../../http/route.ts';
import type { EventFeedService } from '../../services/event-feed.service.ts';
import { presentFeedPage } from './presenter.ts';
import { feedQuery, feedResponse } from './schema.ts';

const tags = ['events'];

export function eventRoutes(api: Api, feed: EventFeedService): void {
  api.addForServices({
    method: 'get',
    path: '/api/v1/events',
    summary:
      'The ordered event feed, oldest first, each event once: resume with `after=<next_cursor>`. A service account limited to ' +
      'organizations reads only theirs. 410 when the cursor is older than the retention (EVENTS_RETENTION_DAYS).',
    tags,
    query: feedQuery,
    response: { status: 200, description: 'A page of events and where to resume', schema: feedResponse },
    errors: [410],
    handler: async (_ctx, { actor, query }) => presentFeedPage(await feed.read(actor, query)),
  });
}
