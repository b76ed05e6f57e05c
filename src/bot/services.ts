/** The domain services the customer bot calls, built once per process from the infrastructure. */
import type { Config } from '../config/index.js';
import type { Clock } from '../infra/clock.js';
import type { Translator } from '../infra/i18n.js';
import type { PrismaClient } from '../infra/prisma.js';
import { createAddressesService, type AddressesService } from '../domain/customers/addresses.js';
import { createIdentitiesService, type IdentitiesService } from '../domain/customers/identities.js';
import { createProfileService, type ProfileService } from '../domain/customers/profile.js';
import { createOrdersService, type OrdersService } from '../domain/orders/orders.service.js';
import { createWishlistService, type WishlistService } from '../domain/catalog/wishlist.service.js';
import { createLoyaltyAccountService, type LoyaltyAccountService } from '../domain/loyalty/account.js';
import { createSupportRequestsService, type SupportRequestsService } from '../domain/support/support-requests.js';

export interface CustomerBotServices {
  identities: IdentitiesService;
  profile: ProfileService;
  addresses: AddressesService;
  orders: OrdersService;
  wishlist: WishlistService;
  loyalty: LoyaltyAccountService;
  support: SupportRequestsService;
}

export function createCustomerBotServices(deps: { prisma: PrismaClient; clock: Clock; config: Config; translator: Translator }): CustomerBotServices {
  const { prisma, clock, config, translator } = deps;
  return {
    identities: createIdentitiesService({ prisma, clock, resolveLanguage: (c) => translator.resolveLanguage(c) }),
    profile: createProfileService({ prisma, clock }),
    addresses: createAddressesService({ prisma }),
    orders: createOrdersService({ prisma, clock, config }),
    wishlist: createWishlistService({ prisma }),
    loyalty: createLoyaltyAccountService({ prisma, clock, config }),
    support: createSupportRequestsService({ prisma, clock }),
  };
}
