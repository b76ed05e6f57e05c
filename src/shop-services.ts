/**
 * The services of the shop integration (issue 4), built once per process from the
 * infrastructure: the loyalty ledger, shop-sync, the notification dispatcher and the outbox.
 * web.ts mounts their HTTP edges; worker.ts runs their workers and periodic jobs.
 */
import { createLoyaltyLedger, type LoyaltyLedger } from './domain/loyalty/ledger.js';
import { createShopSync, type ShopSync } from './domain/shop-sync/shop-sync.js';
import type { Infrastructure } from './infra/infrastructure.js';
import { createNotificationDispatcher, type NotificationDispatcher } from './notifications/send-queue.js';
import { createOutboxFromInfra, type Outbox } from './outbox/outbox.js';

export interface ShopServices {
  ledger: LoyaltyLedger;
  sync: ShopSync;
  notifications: NotificationDispatcher;
  outbox: Outbox;
}

export function createShopServices(infra: Pick<Infrastructure, 'config' | 'prisma' | 'queues' | 'logger' | 'clock'>): ShopServices {
  const { config, prisma, queues, logger, clock } = infra;
  const ledger = createLoyaltyLedger({ settings: config.loyalty, clock });
  return {
    ledger,
    sync: createShopSync({ prisma, ledger, clock, languages: config.i18n.languages }),
    notifications: createNotificationDispatcher({ prisma, queues, logger, sendAttempts: config.notifications.sendAttempts, sendBackoffMs: config.notifications.sendBackoffMs }),
    outbox: createOutboxFromInfra(infra),
  };
}
