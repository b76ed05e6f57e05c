#!/usr/bin/env node
/**
 * `npm start` (and `npm run setup` = the same without running): installs dependencies only
 * when package-lock.json changed since the last install, generates the Prisma client when
 * the schema changed, makes
 * sure PostgreSQL and Redis are there (starting them with Docker Compose when it can), applies
 * migrations, seeds the demo shop into an empty database, then runs web + worker in one process.
 * Plain JavaScript: on a fresh clone nothing is installed yet.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientIsCurrent, installReason, writeClientStamp, writeStamp } from './lib/install-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const setupOnly = process.argv.includes('--setup-only');

function step(args) {
  const result = spawnSync(npm, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const reason = installReason(root);
if (reason) {
  console.log(`Installing dependencies (${reason})…`);
  step(['ci', '--no-audit', '--no-fund']);
  writeStamp(root);
} else {
  console.log('Dependencies match package-lock.json; skipping the install.');
}
if (!clientIsCurrent(root)) {
  step(['run', '--silent', 'prisma:generate']);
  writeClientStamp(root);
}
step(['run', '--silent', 'services']);
step(['run', '--silent', 'db:migrate']);
// A database that has the demo shop keeps it (and what was done in it); `db:seed -- --reset` or
// the page's Reset button starts over.
step(['run', '--silent', 'db:seed', '--', '--if-empty']);
if (setupOnly) process.exit(0);

// `npm run dev` without npm and sh in between: a SIGTERM sent here reaches Kabinet itself
// (a shell would die and leave it running), and Kabinet stops gracefully.
const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], { cwd: root, stdio: 'inherit' });
// Ctrl+C reaches the child too (same process group); wait for its graceful stop.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
