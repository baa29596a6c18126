import { z } from 'zod';
import type { ObjectRef, Requirement, ZedToken } from '../authz/types.ts';
import { ValidationFailed } from '../errors.ts';
import { parseJsonOrUndefined } from '../json.ts';
import type { Seals } from './seals.ts';

/**
 * Where a page of lookup results starts: a place in SpiceDB's LookupResources stream, read at the
 * snapshot the first page was read at, and what the stream held before that place.
 */
export interface LookupPosition {
  snapshot: ZedToken;
  /** SpiceDB's own cursor, resuming its stream after the last id given. */
  resumeAfter: string;
  /** What the listing's stream was sent with, which its continuations repeat (SpiceDB binds its cursor to them). */
  sentAs: Requirement;
  stretchLimit: number;
  /** Results SpiceDB streamed before that place. */
  offset: number;
  /** The greatest granted id streamed before it: a later id above it cannot have been given. */
  highest: string;
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

const sentAs = z.union([
  z.strictObject({ kind: z.enum(['fully_consistent', 'minimize_latency']) }),
  z.strictObject({ kind: z.enum(['at_least_as_fresh', 'at_exact_snapshot']), zedToken: z.string().min(1) }),
]);

const payload = z.strictObject({
  s: z.string().min(1),
  c: z.string().min(1),
  r: sentAs,
  n: z.number().int().min(1),
  o: z.number().int().min(0),
  h: z.string(),
  e: z.number().int(),
});

const FIELD = 'body.cursor';

/**
 * Lookup cursors, sealed (Seals) for one caller and one query. Every page of a listing reads the
 * first page's snapshot, so a cursor is also a way back in time: its listing ends a fixed time
 * after its first page (LOOKUP_CURSOR_TTL_SECONDS), however many pages follow, and someone who
 * lost access since reads what they could see then for at most that long. SpiceDB's own cursor
 * rides inside the seal: a client can neither read nor alter it.
 */
export class LookupCursors {
  private readonly seals: Seals;
  private readonly ttlMs: number;

  constructor(seals: Seals, ttlSeconds: number) {
    this.seals = seals;
    this.ttlMs = ttlSeconds * 1000;
  }

  /** The cursor of the next page; `from` is the position this page started at (none for a first page). */
  next(binding: LookupBinding, position: Omit<LookupPosition, 'expiresAt'>, from: LookupPosition | undefined): string {
    const expiresAt = from?.expiresAt ?? Date.now() + this.ttlMs;
    const fields: z.infer<typeof payload> = {
      s: position.snapshot,
      c: position.resumeAfter,
      r: 'zedToken' in position.sentAs ? { kind: position.sentAs.kind, zedToken: position.sentAs.zedToken } : { kind: position.sentAs.kind },
      n: position.stretchLimit,
      o: position.offset,
      h: position.highest,
      e: expiresAt,
    };
    return this.seals.sealCursor(JSON.stringify(fields), contextOf(binding));
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
    const { s: snapshot, c: resumeAfter, r: requirement, n: stretchLimit, o: offset, h: highest, e: expiresAt } = fields.data;
    // SpiceDB refusing a token carried here (garbage-collected, say) is the cursor's fault: a 422 naming it.
    const sentAs: Requirement = 'zedToken' in requirement ? { ...requirement, suppliedAt: FIELD } : requirement;
    return { snapshot, resumeAfter, sentAs, stretchLimit, offset, highest, expiresAt };
  }
}

function contextOf({ caller, resourceType, permission, subject }: LookupBinding): string {
  return JSON.stringify(['lookup-resources', caller, resourceType, permission, subject.type, subject.id]);
}
