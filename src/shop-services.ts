/**
 * The services of the shop integration (issue 4), built once per process from the
 * infrastructure: the loyalty ledger, shop-sync, the notification dispatcher, the outbox,
 * alert fan-outs and asynchronous imports. web.ts mounts their HTTP edges; worker.ts runs
 * their workers and periodic jobs.
 */
import { createLoyaltyLedger, type LoyaltyLedger } from './domain/loyalty/ledger.js';
import { createImportJobs, type ImportJobs } from './domain/shop-sync/import-jobs.js';
import { createShopSync, type AfterWrite, type ShopSync } from './domain/shop-sync/shop-sync.js';
import type { Infrastructure } from './infra/infrastructure.js';
import { createAlertFanoutQueue, type AlertFanoutQueue } from './notifications/alert-fanout.queue.js';
import { createNotificationDispatcher, type NotificationDispatcher } from './notifications/send-queue.js';
import { createOutboxFromInfra, type Outbox } from './outbox/outbox.js';
import { createShopImportQueue, type ShopImportQueue } from './queues/shop-import.js';

export interface ShopServices {
  ledger: LoyaltyLedger;
  sync: ShopSync;
  notifications: NotificationDispatcher;
  outbox: Outbox;
  fanouts: AlertFanoutQueue;
  imports: ImportJobs;
  importQueue: ShopImportQueue;
  /** Queues what a committed shop write produced: notifications and alert fan-outs. */
  afterWrite(after: AfterWrite): Promise<void>;
}

export function createShopServices(infra: Pick<Infrastructure, 'config' | 'prisma' | 'queues' | 'logger' | 'clock'>): ShopServices {
  const { config, prisma, queues, logger, clock } = infra;
  const ledger = createLoyaltyLedger({ settings: config.loyalty, clock });
  const sync = createShopSync({ prisma, ledger, clock, languages: config.i18n.languages });
  const notifications = createNotificationDispatcher({ prisma, queues, logger, sendAttempts: config.notifications.sendAttempts, sendBackoffMs: config.notifications.sendBackoffMs });
  const fanouts = createAlertFanoutQueue({ prisma, queues, clock, logger, notifications });
  const afterWrite = async (after: AfterWrite) => {
    if (after.notifications.length) await notifications.dispatch(after.notifications);
    if (after.fanouts.length) await fanouts.dispatch(after.fanouts);
  };
  const imports = createImportJobs({ prisma, sync, clock });
  return {
    ledger,
    sync,
    notifications,
    outbox: createOutboxFromInfra(infra),
    fanouts,
    imports,
    importQueue: createShopImportQueue({ queues, imports, logger, after: afterWrite }),
    afterWrite,
  };
}
