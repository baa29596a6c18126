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

/** A display name: trimmed, 1-200 characters. */
export const displayName = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .pipe(text(200));

export const email = z
  .email({ error: 'must be an email address' })
  .max(320)
  .transform((address) => address.toLowerCase());
