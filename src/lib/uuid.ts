/**
 * UUIDs: their text patterns, and time-ordered UUIDs (version 7, RFC 9562), the ids Prisma's
 * `@default(uuid(7))` makes, for rows written by raw SQL whose id must be known before the
 * statement runs. The random part comes from randomUUID (Node keeps a cache of entropy for it:
 * no system call per id).
 */
import { randomUUID } from 'node:crypto';

export function uuidV7(nowMs: number = Date.now()): string {
  const time = Math.floor(nowMs).toString(16).padStart(12, '0').slice(-12);
  // randomUUID: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (variant bits set); keep from the third group on, version 7.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}

/** A UUID's text in lower case, unanchored: for patterns that embed it (callback data). */
export const UUID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** The whole text of a UUID (lower case), for JavaScript and for PostgreSQL's `~` / `~*` alike. */
export const UUID_PATTERN = `^${UUID_SOURCE}$`;

/** A UUID in lower case only: what Kabinet itself writes (the buttons it made). */
export const LOWER_UUID = new RegExp(UUID_PATTERN);

const ANY_CASE = new RegExp(UUID_PATTERN, 'i');

/** A UUID in either case: ids that come from outside (the admin API, payloads). */
export const isUuid = (s: string): boolean => ANY_CASE.test(s);
