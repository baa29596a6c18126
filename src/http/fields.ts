import { z } from 'zod';

/** Request field types shared by the routes' schemas. */

/** Canonical (lower-case) before it reaches Postgres or SpiceDB, where `1A93…` and `1a93…` differ. */
export const uuid = z.uuid({ error: 'must be a UUID' }).toLowerCase();

/** Text Postgres can store: it refuses NUL characters, which must be a 422, not a 500. */
export function text(max: number) {
  return z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((value) => !value.includes('\0'), { error: 'must not contain NUL characters' });
}

// Bidi overrides and isolates can make a name display as something else ("Trojan Source").
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
// Characters that render as nothing: zero-width spaces and joiners, bidi marks, BOM, soft hyphen.
const INVISIBLE = /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u061C\u180E]/g;

/** A display name: bidi controls stripped, trimmed, 1-200 characters, something visible in it. */
export const displayName = z
  .string()
  .transform((name) => name.replace(BIDI_CONTROLS, '').trim())
  .refine((name) => name.replace(INVISIBLE, '').trim().length > 0, { error: 'must contain visible characters' })
  .pipe(text(200));

export const email = z
  .email({ error: 'must be an email address' })
  .max(320)
  .transform((address) => address.toLowerCase());

/** When access ends: RFC 3339 with an offset, in the future, at most a year away. */
export const expiresAt = z.iso
  .datetime({ offset: true, error: 'must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z' })
  .transform((text) => new Date(text))
  .refine((date) => date.getTime() > Date.now(), { error: 'must be in the future' })
  .refine((date) => date <= aYearFromNow(), { error: 'must be at most one year away' });

function aYearFromNow(): Date {
  const limit = new Date();
  limit.setUTCFullYear(limit.getUTCFullYear() + 1);
  return limit;
}
