/**
 * Time-ordered UUIDs (version 7, RFC 9562), the ids Prisma's `@default(uuid(7))` makes, for rows
 * written by raw SQL whose id must be known before the statement runs. The random part comes
 * from randomUUID (Node keeps a cache of entropy for it: no system call per id).
 */
import { randomUUID } from 'node:crypto';

export function uuidV7(nowMs: number = Date.now()): string {
  const time = Math.floor(nowMs).toString(16).padStart(12, '0').slice(-12);
  // randomUUID: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (variant bits set); keep from the third group on, version 7.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}
