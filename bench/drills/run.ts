/**
 * Fault drills (issue 13): `npm run drills` runs them all; `npm run drill:redis`,
 * `drill:postgres`, `drill:web-kill` (or `DRILL=<name> npm run drills`) one. Each takes about
 * a minute and a half, and at most DRILL_WATCHDOG_S (default 180 s) before it is stopped and
 * counted as failed. Prints a table per drill, with the figures before the fault as the
 * baseline, and the load average; exits 1 when a check failed.
 *
 * Run it alone on the machine: `flock /tmp/kabinet-bench.lock npm run drills`.
 */
import { loadavg } from 'node:os';
import { DEFAULT_SETTINGS, runDrill, type DrillKind, type DrillResult } from './drill.js';
import { machine } from '../lib/setup.js';

const ALL: DrillKind[] = ['redis', 'postgres', 'web-kill'];
const wanted = (process.argv[2] ?? process.env.DRILL ?? 'all').split(',').map((s) => s.trim());
const kinds = wanted.includes('all') ? ALL : (wanted as DrillKind[]);
for (const k of kinds) {
  if (!ALL.includes(k)) {
    console.error(`Unknown drill "${k}". Use: ${ALL.join(', ')} or all.`);
    process.exit(2);
  }
}
const WATCHDOG_S = Number(process.env.DRILL_WATCHDOG_S ?? 180);
// DRILL_FAULT=0: the same traffic without the fault (a control run); DRILL_QUICK=1: a small, short run (to try the drill itself).
const SETTINGS = {
  ...DEFAULT_SETTINGS,
  fault: process.env.DRILL_FAULT !== '0',
  // DRILL_APPENDFSYNC=always: the drill's Redis fsyncs every write before answering it.
  appendfsync: process.env.DRILL_APPENDFSYNC === 'always' ? ('always' as const) : ('everysec' as const),
  ...(process.env.DRILL_QUICK === '1' ? { inbound: { chats: 8, rate: 8, durationMs: 6_000, loginEvery: 4 }, orders: 10, faultAtMs: 2_000, downMs: 3_000, settleMs: 30_000 } : {}),
};

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const statuses = (m: Map<string, number>) => (m.size === 0 ? '—' : [...m.entries()].sort().map(([k, v]) => `${k}×${v}`).join(' '));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r, n) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + (n === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n');
}

function report(r: DrillResult, loadBefore: string, loadAfter: string): void {
  console.log(`\n=== drill: ${r.kind} — ${r.fault}`);
  console.log(`load average (1/5/15 min): ${loadBefore} before, ${loadAfter} after`);
  console.log(
    table([
      ['inbound updates', 'webhook answers (by request time)', 'updates', 'update → answer p50', 'p99', 'max'],
      ...(['before', 'during', 'after'] as const).map((p) => [
        p === 'before' ? 'answered before the fault (baseline)' : p === 'during' ? 'caught by the fault' : 'sent after it',
        statuses(r.webhookAnswers[p]),
        String(r.latency[p].n),
        ms(r.latency[p].p50),
        ms(r.latency[p].p99),
        ms(r.latency[p].max),
      ]),
    ]),
  );
  console.log(
    table([
      ['check', 'result'],
      ['updates sent / answered / lost', `${r.updatesSent} / ${r.answered} / ${r.lost}`],
      ['answers out of per-chat order', String(r.outOfOrder)],
      ['duplicate answers (at-least-once window)', String(r.duplicates)],
      ['contact logins mid-flood recorded', `${r.loggedIn.linked}/${r.loggedIn.expected}`],
      ['fake: delivered / failed attempts / left', `${r.fakeDelivery.delivered} / ${r.fakeDelivery.failedAttempts} / ${r.fakeDelivery.pending}`],
      ['notifications once / twice / missing', `${r.notifications.once} / ${r.notifications.twice} / ${r.notifications.missing} of ${r.notifications.expected}`],
      ['notification rows by status', JSON.stringify(r.notifications.rows)],
      ['shop API answers (incl. retries)', statuses(r.shop.answers)],
      ['status changes accepted', `${r.shop.accepted}/${r.notifications.expected}${r.shop.retryAfterSeen ? `, Retry-After seen ${r.shop.retryAfterSeen}×` : ''}`],
      ['/health polls while down: dependency down / 503 / no answer', `${r.healthDuring.reportedDown} / ${r.healthDuring.answered503} / ${r.healthDuring.noAnswer} of ${r.healthDuring.polls}`],
      ['/health ok again after the fault', ms(r.healthOkAfterMs)],
      ['first 2xx webhook answer after the fault', ms(r.webhookOkAfterMs)],
      ['everything answered and sent, after the fault', ms(r.drainedAfterMs)],
      ['unexpected process exits', String(r.exits.length)],
      ['log lines warn / error / fatal', `${r.log.warn} / ${r.log.error} / ${r.log.fatal}`],
    ]),
  );
  const top = [...r.log.errors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  if (top.length) console.log(`error lines: ${top.map(([k, v]) => `${v}× ${k}`).join('; ')}`);
  if (r.log.other.length) console.log(`non-JSON output: ${r.log.other.slice(0, 5).join(' | ')}`);
  for (const n of r.notes) console.log(`note: ${n}`);
  console.log(r.failures.length ? `FAIL: ${r.failures.join('; ')}` : 'PASS');
}

console.log(`Kabinet fault drills: ${kinds.join(', ')} — ${machine()}`);
console.log(`settings: ${JSON.stringify(SETTINGS)}`);
let failed = false;
for (const kind of kinds) {
  const loadBefore = load();
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: the ${kind} drill took more than ${WATCHDOG_S} s`)), WATCHDOG_S * 1000);
  });
  try {
    console.log(`\n--- ${kind}: starting (load ${loadBefore})`);
    const result = await Promise.race([runDrill(kind, SETTINGS, (line) => console.log(line)), watchdog]);
    report(result, loadBefore, load());
    if (result.failures.length) failed = true;
  } catch (err) {
    failed = true;
    console.log(`FAIL: ${kind}: ${(err as Error).stack ?? err}`);
    // The drill's servers and children are its own; a hung drill is not waited for.
    if ((err as Error).message.startsWith('watchdog')) {
      console.log('stopping after the watchdog (child processes are killed with this process)');
      break;
    }
  } finally {
    clearTimeout(timer);
    console.log(`(${kind}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
}
process.exit(failed ? 1 : 0);
