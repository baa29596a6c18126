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

// Control characters (C0, DEL, C1): a CR/LF in a name could forge a line of a mail or a log.
const CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LINE_FEED = /(?!\n)\p{Cc}/u;
// Bidi embeddings, overrides and isolates can make text display as something else ("Trojan Source").
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
// What renders as nothing: whitespace; default-ignorable code points (zero-width characters, bidi
// marks, the Hangul fillers U+3164 and U+FFA0, variation selectors, tag characters U+E0000-E007F);
// other format characters; combining marks, which show only on a base; the blank Braille pattern.
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\p{M}\u2800]/gu;

/** The characters of `value` that show when it is displayed: what the emptiness of a name is judged by. */
export function visibleLength(value: string): number {
  return [...value.replace(INVISIBLE, '')].length;
}

/** Why `value` may not be stored as a name or description, or undefined. One reason, the first that applies. */
function displayTextProblem(value: string, options: { lineBreaks: boolean }): string | undefined {
  if ((options.lineBreaks ? CONTROL_BUT_LINE_FEED : CONTROL).test(value)) {
    return options.lineBreaks ? 'must not contain control characters other than line feeds' : 'must not contain control characters (line breaks, tabs and the like)';
  }
  if (BIDI_CONTROL.test(value)) return 'must not contain bidirectional embeddings, overrides or isolates (U+202A-U+202E, U+2066-U+2069)';
  return undefined;
}

/**
 * Every name shown to people (organizations, workspaces, teams): trimmed, 1-200 characters, no
 * control characters and no bidi overrides (422, never silently changed), and at least one
 * character that shows: a name made of fillers, blank patterns, tag characters or lone combining
 * marks names nothing anyone can see.
 */
export const displayName = text(200)
  .transform((name) => name.trim())
  .superRefine((name, ctx) => {
    const problem = displayTextProblem(name, { lineBreaks: false }) ?? (visibleLength(name) === 0 ? 'must contain visible characters' : undefined);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Every description: up to 2,000 characters, line feeds allowed, other control characters and bidi overrides refused. */
export const descriptionText = text(2000).superRefine((value, ctx) => {
  const problem = displayTextProblem(value, { lineBreaks: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

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
