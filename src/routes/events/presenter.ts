import { encodeFeedCursor, type FeedEvent, type FeedPage } from '../../events/event-feed.ts';
import { eventWireForm } from '../../events/event-log.ts';

export function presentFeedEvent(event: FeedEvent) {
  return { ...eventWireForm(event), cursor: encodeFeedCursor(event.cursor) };
}

export function presentFeedPage(page: FeedPage) {
  return { events: page.events.map(presentFeedEvent), next_cursor: encodeFeedCursor(page.next), has_more: page.hasMore };
}
