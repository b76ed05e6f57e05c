/** The domain services the customer bot calls, built once per process from the infrastructure. */
import type { Config } from '../config/index.js';
import type { Clock } from '../infra/clock.js';
import type { Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import { afterCommitDispatcher, noOutboxDispatch, type OutboxDispatcher } from '../outbox/enqueue.js';
import type { PrismaClient } from '../infra/prisma.js';
import { createAddressesService, type AddressesService } from '../domain/customers/addresses.js';
import { createIdentitiesService, type IdentitiesService } from '../domain/customers/identities.js';
import { createProfileService, type ProfileService } from '../domain/customers/profile.js';
import { createOrdersService, type OrdersService } from '../domain/orders/orders.service.js';
import { createWishlistService, type WishlistService } from '../domain/catalog/wishlist.service.js';
import { createLoyaltyAccountService, type LoyaltyAccountService } from '../domain/loyalty/account.js';
import { createSupportService, type SupportService } from '../domain/support/support.service.js';
import { parseWorkingHours, type WorkingHours } from '../domain/support/hours.js';
import type { QueueFactory } from '../infra/queues.js';
import { createStaffGroupPoster, type StaffGroupPoster } from '../staff/staff-posts.js';

export interface CustomerBotServices {
  identities: IdentitiesService;
  profile: ProfileService;
  addresses: AddressesService;
  orders: OrdersService;
  wishlist: WishlistService;
  loyalty: LoyaltyAccountService;
  support: SupportService;
  /** Where support messages go: the staff groups' poster (none without STAFF_CHAT_ID) and the working hours. */
  desk: { poster: StaffGroupPoster | undefined; hours: WorkingHours };
}

export interface CustomerBotServicesDeps {
  prisma: PrismaClient;
  clock: Clock;
  config: Config;
  translator: Translator;
  logger?: Logger;
  /**
   * Delivers the webhooks the services write (profile, addresses, repeat order, support)
   * right after their transaction commits. Without it they wait for the outbox sweeper.
   */
  outbox?: OutboxDispatcher | undefined;
  /** Queues, for posting support messages into the staff groups (when STAFF_CHAT_ID is set). */
  queues?: QueueFactory | undefined;
}

export function createCustomerBotServices(deps: CustomerBotServicesDeps): CustomerBotServices {
  const { prisma, clock, config, translator, logger } = deps;
  // A failed dispatch must not fail the customer's action: the row is committed and swept later.
  const outbox = deps.outbox
    ? afterCommitDispatcher(deps.outbox, (err, ids) => logger?.warn({ err, outboxIds: ids }, 'outbox dispatch failed; the sweeper will deliver'))
    : noOutboxDispatch;
  const support = createSupportService({ prisma, clock, outbox });
  return {
    identities: createIdentitiesService({ prisma, clock, resolveLanguage: (c) => translator.resolveLanguage(c), outbox, dormantAfterDays: config.login.dormantAfterDays }),
    profile: createProfileService({ prisma, clock, outbox }),
    addresses: createAddressesService({ prisma, outbox }),
    orders: createOrdersService({ prisma, clock, config, outbox }),
    wishlist: createWishlistService({ prisma }),
    loyalty: createLoyaltyAccountService({ prisma, clock, config }),
    support,
    desk: {
      poster: deps.queues && config.staff.chatIds.length > 0 ? createStaffGroupPoster({ queues: deps.queues, support, chatIds: config.staff.chatIds }) : undefined,
      hours: parseWorkingHours(config.support.hours, config.timeZone),
    },
  };
}
