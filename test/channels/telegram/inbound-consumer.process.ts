/**
 * The brain consuming the inbound queue in its own process, for the kill test: built from
 * the environment the way the worker role builds it. argv[2]: the claim lease in ms.
 */
import { loadConfig } from '../../../src/config/index.js';
import { createInfrastructure } from '../../../src/infra/infrastructure.js';
import { createTelegramChannel } from '../../../src/channels/telegram/telegram-channel.js';

const leaseMs = Number(process.argv[2] ?? 1000);
const infra = await createInfrastructure(loadConfig());
const channel = createTelegramChannel(infra, { lock: { leaseMs } }, { inbound: { leaseMs, sweepMs: 100 } });
await channel.startConsuming({ concurrency: 4 });
process.send?.('ready');
