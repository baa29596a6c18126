import type { z } from 'zod';
import type { eventResponse, feedResponse } from '../../src/routes/events/schema.ts';
import { eventually } from './eventually.ts';
import { bearer } from './factories.ts';
import type { TestService } from './test-service.ts';

export type EventBody = z.output<typeof eventResponse>;
export type FeedBody = z.output<typeof feedResponse>;
export type FeedEventBody = FeedBody['events'][number];

/** One page of GET /api/v1/events as a service account; throws on anything but 200. */
export async function feedPage(service: TestService, key: string, query: Record<string, string> = {}): Promise<FeedBody> {
  const response = await service.request(`/api/v1/events?${new URLSearchParams(query).toString()}`, { headers: bearer(key) });
  if (response.status !== 200) throw new Error(`GET /api/v1/events answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as FeedBody;
}

/** A reader of the feed that keeps its cursor between calls, as a consumer would. */
export class FeedReader {
  readonly events: FeedEventBody[] = [];
  private cursor: string | undefined;
  private readonly service: TestService;
  private readonly key: string;
  private readonly query: Record<string, string>;

  constructor(service: TestService, key: string, query: Record<string, string> = {}) {
    this.service = service;
    this.key = key;
    this.query = query;
  }

  private reading: Promise<unknown> = Promise.resolve();

  /** Reads every page there is now; returns what was new. Calls made at once take turns, as one consumer's would. */
  catchUp(): Promise<FeedEventBody[]> {
    const turn = this.reading.then(() => this.readPages());
    this.reading = turn.catch(() => undefined);
    return turn;
  }

  private async readPages(): Promise<FeedEventBody[]> {
    const fresh: FeedEventBody[] = [];
    for (;;) {
      const page = await feedPage(this.service, this.key, { ...this.query, limit: '200', ...(this.cursor && { after: this.cursor }) });
      fresh.push(...page.events);
      this.cursor = page.next_cursor;
      if (!page.has_more) break;
    }
    this.events.push(...fresh);
    return fresh;
  }

  /** Reads until `done` holds for everything read so far; throws after the timeout. */
  async until(done: (events: FeedEventBody[]) => boolean, timeoutMs = 15_000): Promise<FeedEventBody[]> {
    const reached = await eventually(async () => {
      await this.catchUp();
      return done(this.events);
    }, timeoutMs);
    if (!reached) throw new Error(`the feed never held what was awaited; it had ${this.events.map((event) => event.type).join(', ')}`);
    return this.events;
  }
}
