/**
 * Benchmarks 1 and 2: updates through the real webhook route, bare grammY vs Kabinet, on one
 * fake Telegram (rate limits off: the bots are measured, not the fake's 1 msg/s per chat).
 *
 * 1. N private chats × M updates in a closed loop (each person waits for the answer before
 *    the next message, as people do): /start → main menu, then button presses alternating
 *    "orders" (Kabinet reads the orders page from PostgreSQL) and "back to menu".
 * 2. K updates of ONE chat POSTed at once (what a second instance, a retried delivery or VK's
 *    Callback API can produce; Telegram itself sends one chat's updates in sequence) against
 *    K chats with one update each: the price of the per-chat lock.
 */
import { performance } from 'node:perf_hooks';
import { createPrisma } from '../../src/infra/prisma.js';
import { createFakeTelegram, type FakeTelegram, type TgUpdate, type TgUser } from '../../src/fakes/telegram/index.js';
import { SEED_CUSTOMERS } from '../../prisma/seed-data.js';
import { detachWebhook, startBotProcess, TUNED_POLL_MS, WEBHOOK_SECRET, type BotProcess } from '../lib/bots.js';
import { closedLoop, watchReplies, type LoopResult, type ReplyWatcher } from '../lib/replies.js';
import { median } from '../lib/stats.js';
import { databaseTransactions, databaseUrl } from '../lib/setup.js';
import { createFakeVk, type FakeVk } from '../../src/fakes/vk/index.js';
import { openLoop, type OpenLoopFigures } from './open-loop.js';
import { vkFlood, warmRoute, VK_CONFIRMATION, VK_GROUP, VK_SECRET, VK_TOKEN, type FloodRun } from './vk-flood.js';

const BARE_TOKEN = '7100001:AAbench-bare-grammy-bot-token';
const KABINET_TOKEN = '7100002:AAbench-kabinet-customer-bot';
/** Before each timed VK flood: warm-up events over this many connections (UpdatesOptions.floodWarm each). */
const WARM_CONNECTIONS = 30;
const QUEUED_TOKEN = '7100003:AAbench-bare-grammy-queued-bot';
const SPLIT_TOKEN = '7100004:AAbench-kabinet-split-web-worker';

export interface UpdatesOptions {
  chats: number;
  steps: number;
  /** Concurrent updates in benchmark 2. */
  burst: number;
  /** Benchmark 5: people and events per person of the VK flood. */
  floodPeople: number;
  floodPerPerson: number;
  /** Warm-up events per connection before each timed flood (BENCH_FLOOD_WARM; 0: none). */
  floodWarm: number;
  /** Open loop: offered rates (updates/s), tried in order, and seconds per rate. */
  openLoopRates: number[];
  openLoopSeconds: number;
  /** Bisection steps after the ladder (BENCH_OPEN_REFINE). */
  openLoopRefine: number;
  /** A failing open-loop step is run again this many times (every subject alike). */
  openLoopRetries: number;
  /** The whole interleaved ladder this many times (BENCH_OPEN_ROUNDS); each figure is the median round's. */
  openLoopRounds: number;
}

export interface SubjectFigures {
  start: LoopResult;
  /** Callback presses: even rounds open the orders list, odd rounds go back to the menu. */
  presses: LoopResult;
  refused: Map<string, number>;
  /** One chat alone, one update at a time: latency without queueing behind other chats. */
  solo: { start: LoopResult; presses: LoopResult };
  /** PostgreSQL transactions per update in the measured loops (start, presses). */
  sqlPerUpdate: { start: number; presses: number };
}

export interface BurstFigures {
  /** ms from POST to the webhook's answer, per update (direct routes: the update handled). */
  latencies: number[];
  /** ms from POST to the bot's reply at the fake, per update (when watched). */
  handled?: number[];
  /** Wall time until every reply arrived (or every answer, when replies are not watched). */
  wallMs: number;
  statuses: Map<number, number>;
  /** Inbound queue: ms between one update of the chat finishing and the next starting. */
  handoverMs?: number[];
}

export interface UpdatesFigures {
  bare: SubjectFigures;
  kabinet: SubjectFigures;
  burst: Record<'bare' | 'kabinet' | 'kabinetFastPoll', { sameChat: BurstFigures; spread: BurstFigures }>;
  /** maxPollMs of the tuned lock (the default lock is what createWeb builds). */
  tunedPollMs: number;
  /** Open loop: offered rate steps and the highest rate with p99 < 50 ms, per bot. */
  openLoop: OpenLoopResult;
  /** Benchmark 5: the VK flood against the queued route and the direct (previous) one. */
  vkFlood: { queued: FloodRun; direct?: FloodRun | undefined; split: FloodRun };
  /** Of each bot's process, after its benchmarks (after a full GC). */
  memory: Record<'bare' | 'kabinet', { rss: number; heapUsed: number; external: number }>;
}

const settle = (fake: FakeTelegram, token: string) => fake.waitForDelivery(token, { timeoutMs: 30_000 });

/** Every person's bot messages grew past `before` (the webhook answers before the brain runs). */
async function repliesArrived(fake: FakeTelegram, token: string, users: TgUser[], before: Map<number, number>, atLeast = 1): Promise<void> {
  const outgoing = (id: number) => fake.chat(token, id).filter((m) => m.direction === 'out').length;
  await fake.waitFor(() => users.every((u) => outgoing(u.id) >= (before.get(u.id) ?? 0) + atLeast), { timeoutMs: 30_000 });
}
const outgoingCounts = (fake: FakeTelegram, token: string, users: TgUser[]) => new Map(users.map((u) => [u.id, fake.chat(token, u.id).filter((m) => m.direction === 'out').length]));

/** /start, then one's own contact: the real contact-login flow, for every person. */
async function logIn(fake: FakeTelegram, token: string, users: TgUser[]): Promise<void> {
  let before = outgoingCounts(fake, token, users);
  // A guest's /start answers with the greeting (the share-number button under the input field)
  // and then the guest menu; a shared contact is taken at once, as a person's one tap does.
  for (const user of users) fake.sendText(token, user.id, '/start');
  await settle(fake, token);
  await repliesArrived(fake, token, users, before, 2);
  before = outgoingCounts(fake, token, users);
  // People share the phones of the seeded customers, so the orders list shows the seed's orders.
  users.forEach((user, i) => fake.sendContact(token, user.id, { phone: SEED_CUSTOMERS[i % SEED_CUSTOMERS.length]!.phone, firstName: user.first_name }));
  await settle(fake, token);
  await repliesArrived(fake, token, users, before);
  const prisma = createPrisma({ databaseUrl: databaseUrl(), maxConnections: 1 });
  try {
    const linked = await prisma.channelIdentity.count({ where: { platform: 'telegram', externalId: { in: users.map((u) => String(u.id)) }, customerId: { not: null } } });
    if (linked !== users.length) throw new Error(`login failed: ${linked} of ${users.length} people are logged in`);
  } finally {
    await prisma.$disconnect();
  }
}

async function runSubject(fake: FakeTelegram, bot: { token: string }, users: TgUser[], steps: number): Promise<SubjectFigures> {
  const watcher = watchReplies(fake, bot.token, ['sendMessage', 'editMessageText']);
  const chats = users.map((u) => u.id);
  const menuOf = new Map<number, number>();
  const start = (chatId: number) => fake.sendText(bot.token, chatId, '/start');
  const remember = (chatId: number, reply: { messageId: number | undefined }) => {
    if (reply.messageId !== undefined) menuOf.set(chatId, reply.messageId);
  };
  try {
    // Warm-up (JIT, connection pools, first reads): one round each, not counted.
    await closedLoop({ chats, steps: 1, watcher, act: start });
    const t0 = await databaseTransactions();
    const startFigures = await closedLoop({ chats, steps, watcher, act: start, onReply: remember });
    const t1 = await databaseTransactions();
    const press = (chatId: number, step: number) =>
      fake.pressButton(bot.token, chatId, menuOf.get(chatId)!, step % 2 === 0 ? 'o:list:0' : 'm:home', { force: true });
    await closedLoop({ chats, steps: 2, watcher, act: press });
    const t2 = await databaseTransactions();
    const presses = await closedLoop({ chats, steps, watcher, act: press });
    const t3 = await databaseTransactions();
    const alone = chats.slice(0, 1);
    const solo = { start: await closedLoop({ chats: alone, steps: 20, watcher, act: start, onReply: remember }), presses: await closedLoop({ chats: alone, steps: 20, watcher, act: press }) };
    return { start: startFigures, presses, solo, refused: watcher.refused, sqlPerUpdate: { start: (t1 - t0) / startFigures.updates, presses: (t3 - t2) / presses.updates } };
  } finally {
    watcher.close();
  }
}

/** The open loop for both bots together, interleaved rate by rate (open-loop.ts). */
/**
 * The open loop's figures per subject; `queued` only with BENCH_OPEN_QUEUED=1 and `split` only
 * with BENCH_OPEN_SPLIT=1 (BENCH_ONLY=open-loop).
 */
export interface OpenLoopResult {
  bare: OpenLoopFigures;
  kabinet: OpenLoopFigures;
  queued?: OpenLoopFigures;
  split?: OpenLoopFigures;
  /** Each round's figures (best rate per subject), in order; one entry without BENCH_OPEN_ROUNDS. */
  rounds: Array<{ bare: number; kabinet: number; queued?: number; split?: number }>;
}

/** Kabinet as `npm run web` + `npm run worker`: a web-only process records, the brain's process consumes. */
interface SplitKabinet {
  web: BotProcess;
  brain: BotProcess;
}

async function runOpenLoop(fake: FakeTelegram, users: TgUser[], options: Pick<UpdatesOptions, 'openLoopRates' | 'openLoopSeconds' | 'openLoopRefine' | 'openLoopRetries' | 'openLoopRounds'>, bots: { bare: BotProcess; kabinet: BotProcess; queued?: BotProcess | undefined; split?: SplitKabinet | undefined }): Promise<OpenLoopResult> {
  const subject = (token: string, bot: BotProcess, also?: BotProcess) => ({
    token,
    watcher: watchReplies(fake, token, ['sendMessage']),
    stages: bot.kind === 'kabinet' ? () => bot.stages() : undefined,
    // Split: the CPU of both processes.
    cpu: async () => (await bot.cpu()) + (also ? await also.cpu() : 0),
    // Split: the web process's loop (it answers the webhooks; the brain's shows in the stages).
    loop: () => (also ?? bot).loop(),
  });
  const subjects = [subject(BARE_TOKEN, bots.bare), subject(KABINET_TOKEN, bots.kabinet)];
  if (bots.queued) subjects.push(subject(QUEUED_TOKEN, bots.queued));
  if (bots.split) subjects.push(subject(SPLIT_TOKEN, bots.split.brain, bots.split.web));
  try {
    // Every round climbs the whole ladder again with both bots interleaved; a subject's figure
    // is the median of its rounds' (steps are kept with their round for the tables).
    const perRound: OpenLoopFigures[][] = [];
    for (let round = 1; round <= options.openLoopRounds; round++) {
      const figures = await openLoop(fake, users, subjects, {
        rates: options.openLoopRates,
        seconds: options.openLoopSeconds,
        refine: options.openLoopRefine,
        retries: options.openLoopRetries,
      });
      if (options.openLoopRounds > 1) for (const f of figures) for (const step of f.steps) step.round = round;
      perRound.push(figures);
    }
    const merged = (i: number): OpenLoopFigures => ({ steps: perRound.flatMap((r) => r[i]!.steps), best: median(perRound.map((r) => r[i]!.best)) });
    let next = 2;
    const queuedAt = bots.queued ? next++ : undefined;
    const splitAt = bots.split ? next++ : undefined;
    return {
      bare: merged(0),
      kabinet: merged(1),
      ...(queuedAt !== undefined ? { queued: merged(queuedAt) } : {}),
      ...(splitAt !== undefined ? { split: merged(splitAt) } : {}),
      rounds: perRound.map((r) => ({
        bare: r[0]!.best,
        kabinet: r[1]!.best,
        ...(queuedAt !== undefined ? { queued: r[queuedAt]!.best } : {}),
        ...(splitAt !== undefined ? { split: r[splitAt]!.best } : {}),
      })),
    };
  } finally {
    for (const s of subjects) s.watcher.close();
  }
}

/**
 * Benchmark 1b alone (BENCH_ONLY=open-loop): each bot in its own process, Kabinet's people
 * logged in as in the full run, a closed-loop warm-up of /start (JIT, pools), then the open
 * loop. The same steps as the full run, without benchmarks 1, 2 and 5 around them.
 */
export async function runOpenLoopOnly(options: Pick<UpdatesOptions, 'chats' | 'openLoopRates' | 'openLoopSeconds' | 'openLoopRefine' | 'openLoopRetries' | 'openLoopRounds'> & { openLoopQueued?: boolean; openLoopSplit?: boolean }): Promise<OpenLoopResult> {
  const fake = createFakeTelegram({ rateLimits: false, recordCalls: false });
  const apiRoot = await fake.listen();
  fake.createBot({ token: BARE_TOKEN, username: 'bench_bare_bot' });
  fake.createBot({ token: KABINET_TOKEN, username: 'bench_kabinet_bot' });
  if (options.openLoopQueued) fake.createBot({ token: QUEUED_TOKEN, username: 'bench_queued_bot' });
  if (options.openLoopSplit) fake.createBot({ token: SPLIT_TOKEN, username: 'bench_split_bot' });
  const users = Array.from({ length: options.chats }, (_, i) => fake.createUser({ firstName: `Bench${i}`, languageCode: i % 3 === 2 ? 'en' : 'ru' }));
  const warmUp = async (token: string) => {
    const watcher = watchReplies(fake, token, ['sendMessage']);
    try {
      await closedLoop({ chats: users.map((u) => u.id), steps: 5, watcher, act: (chatId) => fake.sendText(token, chatId, '/start') });
    } finally {
      watcher.close();
    }
  };
  let bare: BotProcess | undefined;
  let kabinet: BotProcess | undefined;
  let queued: BotProcess | undefined;
  let split: SplitKabinet | undefined;
  try {
    console.log('      bare grammY: warm-up');
    bare = await startBotProcess('bare', BARE_TOKEN, apiRoot);
    await warmUp(BARE_TOKEN);
    if (options.openLoopQueued) {
      console.log('      bare grammY behind the inbound queue: warm-up');
      queued = await startBotProcess('queued', QUEUED_TOKEN, apiRoot);
      await warmUp(QUEUED_TOKEN);
    }
    console.log('      Kabinet: log-in, warm-up');
    kabinet = await startBotProcess('kabinet', KABINET_TOKEN, apiRoot);
    await logIn(fake, KABINET_TOKEN, users);
    await warmUp(KABINET_TOKEN);
    if (options.openLoopSplit) {
      console.log('      Kabinet split (web process + worker process): warm-up');
      // The brain's process first (its own webhook set), then the web-only process on the same
      // Redis prefixes, whose start sets the webhook to itself: it records, the other consumes.
      const brain = await startBotProcess('kabinet', SPLIT_TOKEN, apiRoot);
      split = { brain, web: await startBotProcess('web', SPLIT_TOKEN, apiRoot, { REDIS_KEY_PREFIX: brain.redisKeyPrefix! }) };
      // The same people, already logged in through the other Kabinet (one database, the same
      // Telegram accounts): their /start shows the customer's menu here too.
      await warmUp(SPLIT_TOKEN);
    }
    console.log(`      ${queued || split ? 'all' : 'both'}: open loop, interleaved rate by rate`);
    return await runOpenLoop(fake, users, options, { bare, kabinet, queued, split });
  } finally {
    await bare?.stop();
    await queued?.stop();
    await split?.web.stop();
    await split?.brain.stop();
    await kabinet?.stop();
    await fake.close();
  }
}

async function postAll(url: string, updates: TgUpdate[], watcher?: ReplyWatcher): Promise<BurstFigures> {
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  const handled: number[] = [];
  const started = performance.now();
  // Replies come in order per chat: the i-th reply to a chat answers its i-th update.
  const replies = watcher ? updates.map((u) => watcher.next(u.message?.chat.id ?? u.callback_query!.from.id, 60_000)) : [];
  await Promise.all(
    updates.map(async (update, i) => {
      const t0 = performance.now();
      if (watcher) void replies[i]!.then((reply) => handled.push(reply.at - t0));
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
        body: JSON.stringify(update),
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }),
  );
  await Promise.all(replies);
  await new Promise((r) => setImmediate(r));
  return { latencies, ...(watcher ? { handled } : {}), wallMs: performance.now() - started, statuses };
}

/**
 * K updates of one chat at once, then K chats with one update each (fresh updates from the
 * fake). With a watcher, each update's reply at the fake is awaited too (queued routes answer
 * before handling); with `bot`, the inbound queue's hand-overs of the one chat are collected.
 */
async function burst(fake: FakeTelegram, token: string, url: string, users: TgUser[], k: number, watcher?: ReplyWatcher, bot?: BotProcess) {
  const warm = users.slice(0, k).map((u) => fake.sendText(token, u.id, '/start'));
  await postAll(url, warm, watcher);
  const spread = await postAll(url, users.slice(0, k).map((u) => fake.sendText(token, u.id, '/start')), watcher);
  await bot?.handovers();
  const sameChat = await postAll(url, Array.from({ length: k }, () => fake.sendText(token, users[0]!.id, '/start')), watcher);
  if (bot) sameChat.handoverMs = await bot.handovers();
  return { sameChat, spread };
}

/** Kabinet's VK settings for the bench's community at the fake VK. */
function vkSettings(vkApiBaseUrl: string): Record<string, string> {
  return {
    VK_GROUP_TOKEN: VK_TOKEN,
    VK_GROUP_ID: String(VK_GROUP),
    VK_CALLBACK_SECRET: VK_SECRET,
    VK_CONFIRMATION_CODE: VK_CONFIRMATION,
    VK_API_BASE_URL: vkApiBaseUrl,
    // Production refuses to run VK with codes only logged; no code is sent in the bench.
    SMS_PROVIDER: 'http',
    SMS_HTTP_URL: 'http://127.0.0.1:9/sms',
  };
}

/** The fake VK with the bench's community: VK's request limit on, its flood control off (see runUpdateBenchmarks). */
async function startFakeVk(): Promise<{ fakeVk: FakeVk; vkApiBaseUrl: string }> {
  const fakeVk = createFakeVk({ floodControl: false });
  const vkApiBaseUrl = await fakeVk.listen();
  fakeVk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: VK_CONFIRMATION, secret: VK_SECRET, name: 'Bench shop' });
  return { fakeVk, vkApiBaseUrl };
}

/**
 * The VK floods against one Kabinet process: the direct route (optional), the production route
 * with the brain in the same process, then production's split (a web-only process records, this
 * process's consumers handle), the web process warmed first by a flood of other people.
 */
async function runFloods(fakeVk: FakeVk, kabinet: BotProcess, apiRoot: string, vkEnv: Record<string, string>, flood: { people: number; perPerson: number }, warmPerConnection: number, withDirect: boolean): Promise<{ direct?: FloodRun; queued: FloodRun; split: FloodRun }> {
  const direct = withDirect ? await vkFlood(fakeVk, kabinet.vkDirectCallbackUrl!, { ...flood, userIdBase: 300_000, loop: () => kabinet.loop() }) : undefined;
  // Each route answers the timed flood with warm code (warmRoute: group-chat events the brain
  // leaves, so no reply stretches the warm-up), as a process that has been serving does.
  const warm = { connections: WARM_CONNECTIONS, perConnection: warmPerConnection, handled: () => kabinet.handled() };
  const warmEvents = WARM_CONNECTIONS * warmPerConnection;
  console.log(`      Kabinet: route warmed (${warmEvents} events, not counted), flood, brain in the same process`);
  await warmRoute(fakeVk, kabinet.vkCallbackUrl!, { ...warm, peerBase: 700_000 });
  const queued = await vkFlood(fakeVk, kabinet.vkCallbackUrl!, { ...flood, userIdBase: 400_000, loop: () => kabinet.loop() });
  console.log(`      Kabinet: web process started and warmed (${warmEvents} events), flood, web and brain split`);
  const webOnly = await startBotProcess('web', KABINET_TOKEN, apiRoot, { ...vkEnv, REDIS_KEY_PREFIX: kabinet.redisKeyPrefix! });
  try {
    // The web-only process is new: its first events of other people, not counted (connections
    // and the brain's path for them), then the route's code warmed as above.
    await vkFlood(fakeVk, webOnly.vkCallbackUrl!, { people: 10, perPerson: 5, userIdBase: 590_000 });
    await warmRoute(fakeVk, webOnly.vkCallbackUrl!, { ...warm, peerBase: 710_000 });
    const split = await vkFlood(fakeVk, webOnly.vkCallbackUrl!, { ...flood, userIdBase: 500_000, loop: () => webOnly.loop() });
    return { queued, split, ...(direct ? { direct } : {}) };
  } finally {
    await webOnly.stop();
  }
}

/**
 * Benchmark 5 alone (BENCH_ONLY=vk-flood): the Kabinet process warmed by a flood of other people
 * (not counted; in the full bench it is warm from benchmarks 1–2), then the floods of the full
 * bench against the queued route, with the brain in the same process and split. The direct
 * route (previous design, ~18 s) only with `direct`.
 */
export async function runVkFloodOnly(options: Pick<UpdatesOptions, 'floodPeople' | 'floodPerPerson' | 'floodWarm'> & { direct?: boolean }): Promise<{ queued: FloodRun; split: FloodRun; direct?: FloodRun }> {
  const fake = createFakeTelegram({ rateLimits: false, recordCalls: false });
  const apiRoot = await fake.listen();
  fake.createBot({ token: KABINET_TOKEN, username: 'bench_kabinet_bot' });
  const { fakeVk, vkApiBaseUrl } = await startFakeVk();
  const vkEnv = vkSettings(vkApiBaseUrl);
  let kabinet: BotProcess | undefined;
  try {
    kabinet = await startBotProcess('kabinet', KABINET_TOKEN, apiRoot, vkEnv);
    console.log('      Kabinet: warm-up flood (not counted)');
    await vkFlood(fakeVk, kabinet.vkCallbackUrl!, { people: 30, perPerson: 5, userIdBase: 380_000 });
    return await runFloods(fakeVk, kabinet, apiRoot, vkEnv, { people: options.floodPeople, perPerson: options.floodPerPerson }, options.floodWarm, options.direct ?? false);
  } finally {
    await kabinet?.stop();
    await fake.close();
    await fakeVk.close();
  }
}

export async function runUpdateBenchmarks(options: UpdatesOptions): Promise<UpdatesFigures> {
  const fake = createFakeTelegram({ rateLimits: false, recordCalls: false });
  const apiRoot = await fake.listen();
  // VK's request limit on (20 requests/s per community): the flood meets what VK would do. Its
  // flood control (the same text 5 times in 10 s to one person) off: each person sends /help 10
  // times, which people do not; the same reply 10 times would be refused.
  const { fakeVk, vkApiBaseUrl } = await startFakeVk();
  fake.createBot({ token: BARE_TOKEN, username: 'bench_bare_bot' });
  fake.createBot({ token: KABINET_TOKEN, username: 'bench_kabinet_bot' });
  const users = Array.from({ length: options.chats }, (_, i) => fake.createUser({ firstName: `Bench${i}`, languageCode: i % 3 === 2 ? 'en' : 'ru' }));
  const k = Math.min(options.burst, users.length);
  let bare: BotProcess | undefined;
  let kabinet: BotProcess | undefined;
  try {
    const progress = (what: string) => console.log(`      ${what}`);
    progress('bare grammY: closed loop');
    bare = await startBotProcess('bare', BARE_TOKEN, apiRoot);
    const bareFigures = await runSubject(fake, { token: BARE_TOKEN }, users, options.steps);

    progress('Kabinet: log-in, closed loop');
    const vkEnv = vkSettings(vkApiBaseUrl);
    kabinet = await startBotProcess('kabinet', KABINET_TOKEN, apiRoot, vkEnv);
    await logIn(fake, KABINET_TOKEN, users);
    const kabinetFigures = await runSubject(fake, { token: KABINET_TOKEN }, users, options.steps);
    progress('both: open loop, interleaved rate by rate');
    const openLoopResult = await runOpenLoop(fake, users, options, { bare, kabinet });

    progress('bare grammY: bursts');
    // Benchmark 2: the bench POSTs the updates itself.
    await detachWebhook(BARE_TOKEN, apiRoot);
    const bareBurst = await burst(fake, BARE_TOKEN, bare.webhookUrl, users, k);
    const bareMemory = await bare.memory();
    await bare.stop();
    bare = undefined;

    progress('Kabinet: bursts, VK flood');
    await detachWebhook(KABINET_TOKEN, apiRoot);
    const watcher = watchReplies(fake, KABINET_TOKEN, ['sendMessage']);
    const kabinetBurst = await burst(fake, KABINET_TOKEN, kabinet.webhookUrl, users, k, watcher, kabinet);
    const tunedBurst = await burst(fake, KABINET_TOKEN, kabinet.tunedWebhookUrl!, users, k);
    watcher.close();
    // Benchmarks 1–2's messages, kept by the fake Telegram in this process (hundreds of MiB),
    // are not needed any more: forgotten before the VK floods time their answers here.
    fake.clearChats();
    const { direct, queued, split } = await runFloods(fakeVk, kabinet, apiRoot, vkEnv, { people: options.floodPeople, perPerson: options.floodPerPerson }, options.floodWarm, true);
    const kabinetMemory = await kabinet.memory();

    return {
      bare: bareFigures,
      kabinet: kabinetFigures,
      burst: { bare: bareBurst, kabinet: kabinetBurst, kabinetFastPoll: tunedBurst },
      tunedPollMs: TUNED_POLL_MS,
      vkFlood: { queued, direct, split },
      openLoop: openLoopResult,
      memory: { bare: bareMemory, kabinet: kabinetMemory },
    };
  } finally {
    await bare?.stop();
    await kabinet?.stop();
    await fake.close();
    await fakeVk.close();
  }
}
