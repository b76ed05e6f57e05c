/**
 * npm run bench:profile -- <file.cpuprofile> [top] [--last <seconds>]: where a process spent
 * its CPU, from a V8 .cpuprofile (BENCH_CPU_PROF=<dir> writes one per bot process). Self time
 * summed by function (with its file) and by package or source folder, highest first, plus the
 * idle and GC shares. `--last 20` keeps only the last 20 s of samples (the measured steps,
 * without start-up's module loading and compilation). Only reads the file.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const lastAt = args.indexOf('--last');
const lastSeconds = lastAt >= 0 ? Number(args.splice(lastAt, 2)[1]) : Infinity;
const [file, topArg] = args;
if (!file || !(lastSeconds > 0)) {
  console.error('usage: npm run bench:profile -- <file.cpuprofile> [top] [--last <seconds>]');
  process.exit(1);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
const from = profile.endTime - lastSeconds * 1e6;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (at >= from) self.set(id, (self.get(id) ?? 0) + delta);
});

/** node_modules/<pkg> (or @scope/pkg), else the source folder (src/bot/ordering), else (native). */
function area(url: string): string {
  if (!url) return '(native / V8)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith('node:')) return path;
  const src = path.search(/\/(src|bench|prisma)\//);
  if (src >= 0) return path.slice(src + 1).split('/').slice(0, -1).join('/') || path;
  return path;
}
const short = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*?\/(src|bench|prisma)\//, '$1/');

const total = [...self.values()].reduce((a, b) => a + b, 0);
const fns = new Map<string, number>();
const areas = new Map<string, number>();
let idle = 0;
for (const [id, us] of self) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  const name = `${functionName || '(anonymous)'}  ${url ? `${short(url)}:${lineNumber + 1}` : ''}`.trim();
  fns.set(name, (fns.get(name) ?? 0) + us);
  const a = ['(garbage collector)', '(program)'].includes(functionName) ? functionName : area(url);
  areas.set(a, (areas.get(a) ?? 0) + us);
}
const busy = total - idle;

// Inclusive: the share of busy samples whose stack holds a frame of the package / folder.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const url = byId.get(at)!.callFrame.url;
    if (url) seen.add(area(url));
  }
  for (const a of seen) inclusive.set(a, (inclusive.get(a) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`.padStart(6);
const msOf = (us: number) => `${(us / 1000).toFixed(0)} ms`.padStart(9);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(1)} s (${((100 * busy) / total).toFixed(0)}%), idle ${(idle / 1e6).toFixed(1)} s; shares below are of busy time.\n`);
console.log('By package / source folder (self time):');
for (const [name, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${msOf(us)} ${pct(us)}  ${name}`);
console.log('\nBy package / source folder, inclusive (a frame of it anywhere on the stack):');
for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${msOf(us)} ${pct(us)}  ${name}`);
console.log('\nBy function (self time):');
for (const [name, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${msOf(us)} ${pct(us)}  ${name}`);
