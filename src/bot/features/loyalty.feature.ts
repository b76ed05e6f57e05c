/** The loyalty screen: balance, tier, the next tier, recent transactions, points expiring soon. */
import { Composer, InlineKeyboard } from 'grammy';
import { FlatComposer } from '../sequence.js';
import type { LoyaltyAccountDto } from '../../domain/loyalty/account.js';
import type { BotContext } from '../context.js';
import { escapeHtml as e, formatDate, formatMoney } from '../html.js';
import type { BotKit } from '../kit.js';
import { loyaltyCb, menuCb } from '../keyboards/index.js';
import type { Screen, View } from '../views/view.js';
import { render, requireCustomer, staleButton } from './helpers.js';

const CURRENCY = 'RUB';

export function loyaltyScreen(view: View, a: LoyaltyAccountDto): Screen {
  const { t, lang } = view;
  const tierName = (tier: { name: string; nameEn: string | null }) => e(lang === 'en' && tier.nameEn ? tier.nameEn : tier.name);
  const lines = [t('loyalty.title'), '', t('loyalty.balance', { count: a.balance })];
  lines.push(a.tier ? t('loyalty.tier', { tier: tierName(a.tier), percent: Number(a.tier.accrualPercent) }) : t('loyalty.no_tier'));
  lines.push(t('loyalty.spend', { amount: formatMoney(a.lifetimeSpend, CURRENCY, lang) }));
  lines.push(a.nextTier ? t('loyalty.next', { tier: tierName(a.nextTier), amount: formatMoney(a.nextTier.spendNeeded, CURRENCY, lang) }) : t('loyalty.top'));
  if (a.expiringSoon) lines.push(t('loyalty.expiring', { count: a.expiringSoon.points, date: formatDate(a.expiringSoon.firstExpiresAt, lang, view.timeZone) }));
  lines.push('', t('loyalty.recent'));
  if (a.recent.length === 0) lines.push(t('loyalty.recent_empty'));
  for (const tx of a.recent) {
    lines.push(t('loyalty.tx', { date: formatDate(tx.createdAt, lang, view.timeZone), points: tx.points > 0 ? `+${tx.points}` : String(tx.points), kind: t(`loyalty.kind.${tx.kind}`) }));
  }
  return { text: lines.join('\n'), keyboard: new InlineKeyboard().text(t('menu.back'), menuCb.encode('home')) };
}

export function createLoyaltyFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  const showAccount = async (ctx: BotContext) => {
    const customerId = await requireCustomer(kit, ctx);
    if (customerId) await render(ctx, loyaltyScreen(kit.view(ctx.lang), await kit.services.loyalty.get(customerId)));
  };
  composer.command('points', showAccount);
  composer.callbackQuery(loyaltyCb.pattern, async (ctx) => {
    if (!loyaltyCb.decode(ctx.callbackQuery.data)) return staleButton(ctx);
    return showAccount(ctx);
  });
  return composer;
}
