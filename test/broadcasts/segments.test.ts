/**
 * Segments select exactly the right customers: consent always required, each condition
 * alone and combined with AND, one identity per customer (the messenger used last, an
 * unblocked one before a blocked one), blocked-only customers counted apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSegment, parseSegment, selectRecipients, type Segment } from '../../src/domain/broadcasts/segment.js';
import { DomainError } from '../../src/errors.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';

let ctx: TestContext;
const ids: Record<string, string> = {};
const identity: Record<string, string> = {};
const now = new Date('2026-12-01T12:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);

async function person(name: string, opts: { language?: string; consent?: boolean; promotions?: boolean; tier?: string; identities?: Array<{ platform: 'telegram' | 'vk'; seenDaysAgo: number; blocked?: boolean }> }) {
  const c = await createCustomer(ctx.prisma, { language: opts.language ?? 'ru', firstName: name });
  await ctx.prisma.customer.update({ where: { id: c.id }, data: { marketingConsent: opts.consent ?? true, notifyPromotions: opts.promotions ?? true, loyaltyTierCode: opts.tier ?? null } });
  ids[name] = c.id;
  let n = 0;
  for (const i of opts.identities ?? [{ platform: 'telegram', seenDaysAgo: 1 }]) {
    const ext = `${name}-${i.platform}-${n++}`;
    const row = await ctx.prisma.channelIdentity.create({
      data: { platform: i.platform, externalId: ext, chatId: String(100000 + Object.keys(identity).length), customerId: c.id, linkedAt: daysAgo(30), lastSeenAt: daysAgo(i.seenDaysAgo), blockedAt: i.blocked ? daysAgo(2) : null },
    });
    identity[`${name}:${i.platform}`] = row.id;
  }
  return c;
}

beforeAll(async () => {
  ctx = await createTestContext();
  await ctx.prisma.loyaltyTier.createMany({ data: [{ code: 'silver', name: 'Серебряный', nameEn: 'Silver', minSpend: '0', accrualPercent: '5', sortOrder: 1 }, { code: 'gold', name: 'Золотой', nameEn: 'Gold', minSpend: '1', accrualPercent: '7', sortOrder: 2 }], skipDuplicates: true });
  const sale = await createProduct(ctx.prisma, { sku: 'SALE-1' });
  const other = await createProduct(ctx.prisma, { sku: 'OTHER-1' });
  const anna = await person('anna', { tier: 'gold' });
  await createOrder(ctx.prisma, anna.id, { placedAt: daysAgo(5), items: [{ product: sale, quantity: 1, price: 10 }] });
  await ctx.prisma.wishlistItem.create({ data: { customerId: anna.id, productId: sale.id, priceAtAdd: '10' } });
  const bob = await person('bob', { language: 'en', tier: 'silver', identities: [{ platform: 'vk', seenDaysAgo: 3 }] });
  await createOrder(ctx.prisma, bob.id, { placedAt: daysAgo(100), items: [{ product: other, quantity: 1, price: 10 }] });
  await ctx.prisma.wishlistItem.create({ data: { customerId: bob.id, productId: other.id, priceAtAdd: '10' } });
  // Both messengers, VK used last.
  await person('cleo', { identities: [{ platform: 'telegram', seenDaysAgo: 10 }, { platform: 'vk', seenDaysAgo: 1 }] });
  await person('dan', { consent: false });
  await person('eve', { promotions: false });
  await person('fay', { identities: [{ platform: 'telegram', seenDaysAgo: 1, blocked: true }] });
  // Telegram used last but blocked: VK it is.
  await person('gus', { language: 'en', identities: [{ platform: 'telegram', seenDaysAgo: 1, blocked: true }, { platform: 'vk', seenDaysAgo: 20 }] });
  await person('hal', { language: 'en' });
  await person('ivy', { identities: [] });
}, 60_000);
afterAll(async () => {
  await ctx?.close();
});

const pick = async (segment: Segment) => {
  const rows = await selectRecipients(ctx.prisma, segment, now);
  const name = (id: string) => Object.entries(ids).find(([, v]) => v === id)![0];
  return { reached: rows.filter((r) => !r.blocked).map((r) => `${name(r.customerId)}:${r.platform}`).sort(), blocked: rows.filter((r) => r.blocked).map((r) => name(r.customerId)).sort() };
};

describe('segments', () => {
  it('require marketing consent and the promotions switch, always; one identity per customer', async () => {
    expect(await pick({})).toEqual({ reached: ['anna:telegram', 'bob:vk', 'cleo:vk', 'gus:vk', 'hal:telegram'], blocked: ['fay'] });
  });

  it.each<[string, Segment, string[]]>([
    ['platforms telegram', { platforms: ['telegram'] }, ['anna:telegram', 'cleo:telegram', 'hal:telegram']],
    ['platforms vk', { platforms: ['vk'] }, ['bob:vk', 'cleo:vk', 'gus:vk']],
    ['languages en', { languages: ['en'] }, ['bob:vk', 'gus:vk', 'hal:telegram']],
    ['tiers gold', { tiers: ['gold'] }, ['anna:telegram']],
    ['tiers gold+silver', { tiers: ['gold', 'silver'] }, ['anna:telegram', 'bob:vk']],
    ['ordered within 30 days', { orderedWithinDays: 30 }, ['anna:telegram']],
    ['ordered within 365 days', { orderedWithinDays: 365 }, ['anna:telegram', 'bob:vk']],
    ['no orders within 30 days (never ordered included)', { noOrdersWithinDays: 30 }, ['bob:vk', 'cleo:vk', 'gus:vk', 'hal:telegram']],
    ['wishlisted SALE-1', { wishlistSkus: ['SALE-1'] }, ['anna:telegram']],
    ['wishlisted either', { wishlistSkus: ['SALE-1', 'OTHER-1'] }, ['anna:telegram', 'bob:vk']],
    ['en AND vk', { languages: ['en'], platforms: ['vk'] }, ['bob:vk', 'gus:vk']],
    ['ru AND no orders 30d AND telegram', { languages: ['ru'], noOrdersWithinDays: 30, platforms: ['telegram'] }, ['cleo:telegram']],
    ['silver AND ordered 30d: nobody', { tiers: ['silver'], orderedWithinDays: 30 }, []],
  ])('%s', async (_name, segment, expected) => {
    expect((await pick(segment)).reached).toEqual(expected);
  });

  it('customerIds selects those customers, still only with consent', async () => {
    expect((await pick({ customerIds: [ids.anna!, ids.dan!, ids.hal!] })).reached).toEqual(['anna:telegram', 'hal:telegram']);
  });

  it('counts customers, identities and where messages go', async () => {
    expect(await countSegment(ctx.prisma, {}, now)).toEqual({ customers: 5, identities: 6, byPlatform: { telegram: 2, vk: 3 }, blocked: 1 });
    expect(await countSegment(ctx.prisma, { platforms: ['telegram'] }, now)).toEqual({ customers: 3, identities: 3, byPlatform: { telegram: 3, vk: 0 }, blocked: 2 });
  });

  it.each([
    ['unknown condition', { consent: false }],
    ['unknown platform', { platforms: ['whatsapp'] }],
    ['empty list', { languages: [] }],
    ['language the shop lacks', { languages: ['de'] }],
    ['days not whole', { orderedWithinDays: 1.5 }],
    ['days negative', { noOrdersWithinDays: -1 }],
    ['not a uuid', { customerIds: ["1' OR 1=1 --"] }],
    ['not an object', ['telegram']],
  ])('refuses %s', (_name, input) => {
    expect(() => parseSegment(input, ['ru', 'en'])).toThrow(DomainError);
  });
});
