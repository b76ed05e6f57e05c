#!/usr/bin/env node
/**
 * node scripts/lockfile-platform-stubs.mjs — run after `npm install` changes package-lock.json.
 *
 * Some registries (mirrors, this project's CI) do not carry every platform build of native
 * optional packages (e.g. @msgpackr-extract/msgpackr-extract-darwin-arm64 answers 404).
 * npm then writes a lock without them, and `npm ci` refuses that lock ("Missing: ... from
 * lock file"). This adds those entries back as optional, platform-tagged stubs: npm ci skips
 * them on other platforms without fetching, exactly as it does for a complete lock.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORM = /-(darwin|linux|win32|freebsd|openbsd|android|sunos|aix)-(arm64|x64|arm|ia32|ppc64|s390x|riscv64|loong64)(?:-[a-z]+)?$/;
const path = 'package-lock.json';
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];

for (const [location, meta] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${dep}`;
    if (packages[nested] || packages[`node_modules/${dep}`]) continue;
    const m = PLATFORM.exec(dep);
    if (!m) throw new Error(`${dep} (optional dependency of ${location}) is missing from the lock and is not a platform build`);
    packages[`node_modules/${dep}`] = { version: String(range).replace(/^[~^=]/, ''), cpu: [m[2]], license: meta.license ?? 'MIT', optional: true, os: [m[1]] };
    added.push(dep);
  }
}

const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `Added platform stubs: ${added.join(', ')}` : 'Lock file complete; nothing to add.');
