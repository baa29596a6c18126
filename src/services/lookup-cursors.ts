import { z } from 'zod';
import type { ObjectRef, ZedToken } from '../authz/types.ts';
import { ValidationFailed } from '../errors.ts';
import { parseJsonOrUndefined } from '../json.ts';
import type { Seals } from './seals.ts';

/** Where a page of lookup results starts: after an id, in the snapshot the first page was read at. */
export interface LookupPosition {
  after: string;
  snapshot: ZedToken;
  /** Epoch milliseconds after which no cursor of this listing is accepted. */
  expiresAt: number;
}

/** Whose listing a cursor continues: the caller, and the query as the schema reads it. */
export interface LookupBinding {
  /** `user:<id>` or `service_account:<id>`. */
  caller: string;
  resourceType: string;
  permission: string;
  subject: ObjectRef;
}

const payload = z.strictObject({ s: z.string().min(1), a: z.string().min(1), e: z.number().int() });

const FIELD = 'body.cursor';

/**
 * Lookup cursors, sealed (Seals) for one caller and one query. Every page of a listing reads the
 * first page's snapshot, so a cursor is also a way back in time: its listing ends a fixed time
 * after its first page (LOOKUP_CURSOR_TTL_SECONDS), however many pages follow, and someone who
 * lost access since reads what they could see then for at most that long.
 */
export class LookupCursors {
  private readonly seals: Seals;
  private readonly ttlMs: number;

  constructor(seals: Seals, ttlSeconds: number) {
    this.seals = seals;
    this.ttlMs = ttlSeconds * 1000;
  }

  /** The cursor of the page after `after`; `from` is the position this page started at (none for a first page). */
  next(binding: LookupBinding, after: string, snapshot: ZedToken, from: LookupPosition | undefined): string {
    const expiresAt = from?.expiresAt ?? Date.now() + this.ttlMs;
    return this.seals.sealCursor(JSON.stringify({ s: snapshot, a: after, e: expiresAt }), contextOf(binding));
  }

  /** The position a cursor names; a 422 on body.cursor for one altered, sealed for another caller or query, or expired. */
  open(cursor: string, binding: LookupBinding): LookupPosition {
    const opened = this.seals.openCursor(cursor, contextOf(binding));
    const fields = opened === undefined ? undefined : payload.safeParse(parseJsonOrUndefined(opened));
    if (!fields?.success) {
      throw new ValidationFailed([{ field: FIELD, message: 'is not a cursor this API issued to this caller for this query' }]);
    }
    if (fields.data.e <= Date.now()) {
      throw new ValidationFailed([{ field: FIELD, message: 'has expired: list again from the first page' }]);
    }
    return { snapshot: fields.data.s, after: fields.data.a, expiresAt: fields.data.e };
  }
}

function contextOf({ caller, resourceType, permission, subject }: LookupBinding): string {
  return JSON.stringify(['lookup-resources', caller, resourceType, permission, subject.type, subject.id]);
}
