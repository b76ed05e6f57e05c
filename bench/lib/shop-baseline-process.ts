/**
 * The shop API benchmark's baseline, in its own process: a bare Fastify route at Kabinet's
 * path that does what any signed write must do and nothing more — the same Kabinet-Signature
 * check (header, freshness, HMAC-SHA256 over "<t>.<METHOD>.<path>.<raw body>" with
 * src/lib/signature.ts) before the body is parsed, then one INSERT through node-postgres
 * (a pool as large as Kabinet's). No schema, no idempotency, no queue.
 *
 *   argv: <database url> <shop secret>   env PORT (0: any)
 *
 * Tells the parent { ready, url } over IPC and exits on { stop } or when the parent goes.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { createBodyVerifier, parseSignatureHeader } from '../../src/lib/signature.js';

const [databaseUrl, secret] = process.argv.slice(2);
if (!databaseUrl || !secret) throw new Error('usage: shop-baseline-process <database url> <secret>');

const BASELINE_TABLE = 'bench_shop_baseline';

const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(`CREATE TABLE IF NOT EXISTS ${BASELINE_TABLE} (id bigserial PRIMARY KEY, number text NOT NULL, "eventId" text NOT NULL, body jsonb NOT NULL, "receivedAt" timestamptz NOT NULL DEFAULT now())`);

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post<{ Params: { number: string }; Body: Buffer }>('/api/v1/orders/:number/status', async (request, reply) => {
  const parsed = parseSignatureHeader(request.headers['kabinet-signature'] as string | undefined, 300, new Date());
  if (!parsed.ok) return reply.code(401).send({ error: 'unauthorized', details: { reason: parsed.problem } });
  const verifier = createBodyVerifier([secret], parsed.value, { method: request.method, path: request.raw.url ?? request.url });
  verifier.update(request.body);
  if (!verifier.matches()) return reply.code(401).send({ error: 'unauthorized', details: { reason: 'mismatch' } });
  const body = JSON.parse(request.body.toString('utf8')) as { eventId: string };
  await pool.query(`INSERT INTO ${BASELINE_TABLE} (number, "eventId", body) VALUES ($1, $2, $3)`, [request.params.number, body.eventId, body]);
  return { ok: true, duplicate: false };
});
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });

process.on('message', async (message: { type: string }) => {
  if (message.type !== 'stop') return;
  await app.close();
  await pool.end();
  process.send!({ type: 'stopped' }, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready', url });
