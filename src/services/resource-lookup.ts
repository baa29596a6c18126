import { fromSpiceDbId } from '../authz/object-ids.ts';
import type { SpiceDbClient } from '../authz/spicedb.client.ts';
import type { Consistency, LookedUpResource, Requirement, SubjectRef, ZedToken } from '../authz/types.ts';
import type { LookupPosition } from './lookup-cursors.ts';

/**
 * One page of a lookup-resources listing, read from SpiceDB's own paged LookupResources stream,
 * so a page costs about one page of SpiceDB's work however much the subject reaches.
 *
 * Why ids are deduplicated here: when SpiceDB pages its stream (optional_limit and cursor) it
 * sends an id once per path that reaches it (a user who reaches a chatbot through a direct grant,
 * a workspace role and a team gets it three times, far apart: SpiceDB v1.54 and v1.56, also with
 * lr3), and nothing in its cursor remembers what was sent. A page therefore gives an id only at
 * its first place in the stream, without holding the ids of earlier pages:
 * - within the stretch this request reads, by the granted ids it streamed (bounded by the read);
 * - before it, by `highest`, the greatest granted id streamed before the page's start (in the
 *   cursor): an id above it cannot have come earlier, so it is new. Only an id at or below it
 *   (the stream has turned back: a second path) is looked for in the stream before the page,
 *   re-read at the same snapshot, all such ids of the page at once. SpiceDB streams each path's
 *   ids in id order, so a subject reached by one path never turns back, and its pages never
 *   re-read. One reached by several pays after the turn: at worst (a page of nothing but
 *   repeats) it reads the rest of the stream and re-reads what came before, about what every
 *   page cost before SpiceDB's paging was used, holding the ids it read for that page.
 * The cursor is SpiceDB's own, resuming after the page's last id; SpiceDB answers the same
 * stream at the same snapshot however it is paged, which is what makes both rules exact.
 */

/** SpiceDB's default cap on one LookupResources call (`--max-lookup-resources-limit`). */
const STRETCH_LIMIT = 1_000;

export interface ResourceQuery {
  resourceType: string;
  permission: string;
  subject: SubjectRef;
}

export interface ResourcePage {
  ids: string[];
  /** Where the next page starts; absent when the listing is complete. */
  next?: Omit<LookupPosition, 'expiresAt'>;
}

interface PageRequest {
  limit: number;
  /** The position a cursor named; absent for a first page. */
  from?: LookupPosition | undefined;
  /** How fresh a first page reads; later pages read its snapshot. */
  consistency: Consistency;
  /** Field that supplied the cursor, named in a 422 if SpiceDB refuses its snapshot (garbage-collected). */
  cursorField: string;
  /** The ids, among these, the caller may see (a scoped service account sees its organizations' only). */
  visible(ids: string[]): Promise<string[]>;
}

type Place = Pick<LookupPosition, 'resumeAfter' | 'offset' | 'highest'>;

export async function readResourcePage(spicedb: SpiceDbClient, query: ResourceQuery, request: PageRequest): Promise<ResourcePage> {
  // The page, and one more id: whether a next page exists, so the last page never comes empty.
  const wanted = request.limit + 1;
  const stream = new SnapshotStream(spicedb, query, request, request.from?.stretchLimit ?? Math.min(STRETCH_LIMIT, wanted));
  const start: Place = request.from ?? { resumeAfter: '', offset: 0, highest: '' };
  const given: Array<{ id: string; place: Place }> = [];
  const streamedHere = new Set<string>();
  let place = start;
  let ended = false;
  // The first round reads what the page needs. If some of it came before after all (the stream
  // turned back to a second path), each later round reads on until enough ids are surely new
  // (above `highest`) or the stream ends: a page re-reads the stream before it once per round,
  // and a second round is rare (it needs repeats, or ids the caller may not see).
  for (let round = 0; given.length < wanted && !ended; round++) {
    const needed = wanted - given.length;
    const candidates: Array<{ id: string; place: Place }> = [];
    const suspects = new Set<string>();
    const enough = () => (round === 0 ? candidates.length : candidates.length - suspects.size) >= needed;
    while (!ended && !enough()) {
      const results = await stream.read(place.resumeAfter);
      ended = results.length < stream.stretchLimit;
      for (const result of results) {
        const firstHere = result.granted && !streamedHere.has(result.id);
        place = {
          resumeAfter: result.resumeAfter,
          offset: place.offset + 1,
          highest: result.granted && result.id > place.highest ? result.id : place.highest,
        };
        if (!firstHere) continue;
        streamedHere.add(result.id);
        candidates.push({ id: result.id, place });
        if (start.offset > 0 && result.id <= start.highest) suspects.add(result.id);
      }
    }
    const earlier = await stream.grantedBefore(start.offset, suspects);
    const fresh = candidates.filter(({ id }) => !earlier.has(id));
    const visible = new Set(await request.visible(fresh.map(({ id }) => fromSpiceDbId(query.resourceType, id))));
    given.push(...fresh.filter(({ id }) => visible.has(fromSpiceDbId(query.resourceType, id))));
  }
  const last = given[request.limit - 1];
  const { snapshot, sentAs } = stream;
  return {
    ids: given.slice(0, request.limit).map(({ id }) => fromSpiceDbId(query.resourceType, id)),
    ...(given.length > request.limit && last && snapshot && sentAs && { next: { snapshot, sentAs, stretchLimit: stream.stretchLimit, ...last.place } }),
  };
}

/**
 * SpiceDB's LookupResources stream for one listing: read in stretches of one size, sent as the
 * listing's first stretch was (SpiceDB's cursor demands both), at the first stretch's revision.
 */
class SnapshotStream {
  private readonly spicedb: SpiceDbClient;
  private readonly query: ResourceQuery;
  private readonly request: PageRequest;
  readonly stretchLimit: number;
  snapshot: ZedToken | undefined;
  sentAs: Requirement | undefined;

  constructor(spicedb: SpiceDbClient, query: ResourceQuery, request: PageRequest, stretchLimit: number) {
    this.spicedb = spicedb;
    this.query = query;
    this.request = request;
    this.stretchLimit = stretchLimit;
    this.snapshot = request.from?.snapshot;
    this.sentAs = request.from?.sentAs;
  }

  /** The next stretch after `resumeAfter` (a cursor this stream gave), or the first when empty. */
  async read(resumeAfter: string): Promise<LookedUpResource[]> {
    const resume = resumeAfter && this.sentAs ? { cursor: resumeAfter, sentAs: this.sentAs } : undefined;
    const read = await this.spicedb.lookupResourcesStretch(this.query, { limit: this.stretchLimit, resume }, this.request.consistency);
    this.snapshot ??= read.lookedUpAt || undefined;
    this.sentAs ??= read.sentAs;
    return read.results;
  }

  /**
   * Which of `ids` the stream granted in its first `offset` results: a stream of its own from the
   * start, at the listing's snapshot, in the largest stretches SpiceDB allows.
   */
  async grantedBefore(offset: number, ids: ReadonlySet<string>): Promise<Set<string>> {
    const found = new Set<string>();
    if (ids.size === 0 || !this.snapshot) return found;
    const atSnapshot: Requirement = { kind: 'at_exact_snapshot', zedToken: this.snapshot, suppliedAt: this.request.cursorField };
    // One stretch size for the whole re-read, as SpiceDB's cursor demands.
    const limit = Math.min(STRETCH_LIMIT, offset);
    let read = 0;
    let resume: { cursor: string; sentAs: Requirement } | undefined;
    while (read < offset) {
      const { results } = await this.spicedb.lookupResourcesStretch(this.query, { limit, resume }, atSnapshot);
      for (const result of results.slice(0, offset - read)) if (result.granted && ids.has(result.id)) found.add(result.id);
      read += results.length;
      const last = results.at(-1);
      if (results.length < limit || !last) break;
      resume = { cursor: last.resumeAfter, sentAs: atSnapshot };
    }
    return found;
  }
}
