/**
 * Kabinet's web role alone, in a child process, as `npm run web` builds it (config from the
 * environment, createInfrastructure, createWeb, start), for benches that must watch the
 * process from outside: it crashing, its memory. Started by bench/hostile.ts with
 * `node --expose-gc --import tsx`; talks over IPC:
 *   → { ready, origin, routes }   routes: Fastify's printRoutes() of the running app
 *   ← { memory }  → { memory: { rss, heapUsed, external, arrayBuffers } } (after a full GC when asked)
 *   ← { stop }    → { stopped }
 * The GC hook exists only in this bench entry, over IPC: Kabinet itself has no such route.
 */
import { loadConfig } from '../../src/config/index.js';
import { createInfrastructure } from '../../src/infra/infrastructure.js';
import { createWeb } from '../../src/web.js';

const config = loadConfig(process.env);
const infra = await createInfrastructure(config);
const web = await createWeb(infra);
await web.start();

const gc = (globalThis as { gc?: () => void }).gc;

function memory(collect: boolean) {
  if (collect && gc) {
    // Twice: the first pass may only queue finalizers that free more on the second.
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

process.on('message', async (message: { type: string; gc?: boolean }) => {
  if (message.type === 'memory') process.send!({ type: 'memory', memory: memory(message.gc !== false), gcAvailable: Boolean(gc) });
  if (message.type === 'stop') {
    await web.stop();
    await infra.close();
    process.send!({ type: 'stopped' }, () => process.exit(0));
  }
});
// The bench died: do not outlive it.
process.on('disconnect', () => process.exit(0));
process.send!({
  type: 'ready',
  origin: `http://127.0.0.1:${config.http.port}`,
  routes: web.app.printRoutes({ commonPrefix: false }),
});
