import type { ServiceAccount } from '../db/entities/index.ts';
import type { Orm } from '../db/orm.ts';
import { Gone } from '../errors.ts';
import { readFeed, type FeedCursor, type FeedPage } from '../events/event-feed.ts';

export interface FeedRequest {
  after?: FeedCursor | undefined;
  types?: string[] | undefined;
  limit: number;
}

/** The ordered event feed for service accounts: an account limited to organizations reads only theirs. */
export class EventFeedService {
  private readonly orm: Orm;
  private readonly retentionDays: number;

  constructor(orm: Orm, retentionDays: number) {
    this.orm = orm;
    this.retentionDays = retentionDays;
  }

  async read(account: ServiceAccount, request: FeedRequest): Promise<FeedPage> {
    const page = await readFeed(this.orm.em.fork(), {
      after: request.after ?? null,
      types: request.types ?? null,
      organizationIds: account.organizationIds,
      limit: request.limit,
    });
    if (page === 'pruned') {
      throw new Gone(
        `Events after this cursor were deleted: they are kept ${this.retentionDays} days. Read the feed again from its start ` +
          '(without `after`) and bring your copy up to date from the API (organizations, members, workspaces, grants) first.',
      );
    }
    return page;
  }
}
