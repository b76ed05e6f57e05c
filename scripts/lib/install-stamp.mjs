/**
 * "Install only when package-lock.json changed": after a successful `npm ci`, the lock's
 * SHA-256 is written into node_modules; the next start compares it and skips the install
 * when it matches. Plain ESM JavaScript: it runs before node_modules (and tsx) exist.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP_FILE = '.kabinet-lock-sha256';

/** @param {string} root */
export function lockHash(root) {
  return createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
}

/**
 * Why an install is needed, or null when node_modules matches the lock.
 * @param {string} root
 * @returns {string | null}
 */
export function installReason(root) {
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) return 'node_modules is missing';
  const stamp = join(modules, STAMP_FILE);
  if (!existsSync(stamp)) return 'node_modules was not installed by `npm start`';
  if (readFileSync(stamp, 'utf8').trim() !== lockHash(root)) return 'package-lock.json changed';
  return null;
}

/** @param {string} root */
export function writeStamp(root) {
  writeFileSync(join(root, 'node_modules', STAMP_FILE), `${lockHash(root)}\n`);
}

const GENERATED = join('src', 'generated', 'prisma');
const SCHEMA_STAMP = '.kabinet-schema-sha256';

/** The schema and the installed Prisma (the lock) together decide the generated client. */
function schemaHash(root) {
  return createHash('sha256').update(readFileSync(join(root, 'prisma', 'schema.prisma'))).update(lockHash(root)).digest('hex');
}

/** True when src/generated/prisma was generated from this schema with these packages. */
export function clientIsCurrent(root) {
  const stamp = join(root, GENERATED, SCHEMA_STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === schemaHash(root);
}

export function writeClientStamp(root) {
  writeFileSync(join(root, GENERATED, SCHEMA_STAMP), `${schemaHash(root)}\n`);
}
