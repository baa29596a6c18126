import { z } from 'zod';
import { MalformedRequest } from '../errors.ts';
import { parseJsonOrUndefined } from '../json.ts';
import type { Caller } from './authorization.service.ts';
import type { Seals } from './seals.ts';

const payload = z.strictObject({ a: z.string(), e: z.number().int() });

/**
 * Page tokens of the AuthZEN subject and action searches, whose lists are answered whole and
 * paged here: the last item answered, sealed (Seals) for one caller and one query, so a token
 * used for another query (the spec asks every page to repeat the first request) is refused.
 */
export class SearchPages {
  private readonly seals: Seals;
  private readonly ttlMs: number;

  constructor(seals: Seals, ttlSeconds: number) {
    this.seals = seals;
    this.ttlMs = ttlSeconds * 1000;
  }

  next(caller: Caller, query: string[], after: string): string {
    return this.seals.sealCursor(JSON.stringify({ a: after, e: Date.now() + this.ttlMs }), contextOf(caller, query));
  }

  /** The item the page continues after; 400 for a token altered, issued for another caller or query, or expired. */
  open(token: string, caller: Caller, query: string[]): string {
    const opened = this.seals.openCursor(token, contextOf(caller, query));
    const fields = opened === undefined ? undefined : payload.safeParse(parseJsonOrUndefined(opened));
    if (!fields?.success) throw new MalformedRequest('page.token is not a token this PDP issued to this caller for this search');
    if (fields.data.e <= Date.now()) throw new MalformedRequest('page.token has expired: search again from the first page');
    return fields.data.a;
  }
}

function contextOf(caller: Caller, query: string[]): string {
  const who = caller.kind === 'user' ? `user:${caller.userId}` : `service_account:${caller.account.id}`;
  return JSON.stringify(['authzen-search', who, ...query]);
}
