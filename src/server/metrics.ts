/**
 * Prometheus metrics at /metrics: process metrics, HTTP requests by route and status, and
 * BullMQ queue depths read at scrape time. A registry per app (no global state), so tests
 * and several apps in one process do not collide.
 */
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueFactory } from '../infra/queues.js';
import { bearerMatches } from '../lib/secure-compare.js';

export interface MetricsOptions {
  queues?: QueueFactory;
  queueNames?: string[];
  /** Bearer token required to scrape. */
  token?: string;
  /**
   * What an unset token means: open (development, tests) or closed with 403 (production,
   * where the port is published: compose maps 3000 on every interface).
   */
  openWithoutToken?: boolean;
}

export const metricsPlugin = fp<MetricsOptions>(async (app, options) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kabinet_' });
  const requests = new Counter({ name: 'kabinet_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'kabinet_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  if (options.queues && options.queueNames?.length) {
    const queues = options.queues;
    new Gauge({
      name: 'kabinet_queue_jobs', help: 'BullMQ jobs by queue and state', labelNames: ['queue', 'state'], registers: [registry],
      async collect() {
        for (const name of options.queueNames!) {
          const counts = await queues.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
          for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, Number(n));
        }
      },
    });
  }

  app.addHook('onResponse', (request, reply, done) => {
    // Route patterns, not URLs: ids and tokens in paths must not become label values.
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!options.token && options.openWithoutToken === false) {
      return reply.status(403).send({ error: 'forbidden', message: 'Metrics are closed: set METRICS_TOKEN to scrape them' });
    }
    if (options.token && !bearerMatches(request.headers.authorization, options.token)) {
      return reply.status(401).send({ error: 'unauthorized', message: 'Bearer token required' });
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
});
