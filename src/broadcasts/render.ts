/**
 * Placeholder values for broadcasts, in the customer's language: {firstName} (or a friendly
 * word when the shop never sent a name), {points} formatted for the language, {tier} as the
 * tier's name in that language. Tier names are read once and kept for a minute.
 */
import type { PlaceholderValues } from '../domain/broadcasts/content.js';
import type { PlaceholderSubject } from '../domain/broadcasts/broadcasts.service.js';
import type { Translator } from '../infra/i18n.js';
import type { PrismaClient } from '../infra/prisma.js';

const LOCALES: Record<string, string> = { ru: 'ru-RU', en: 'en-GB' };
const numberFormats = new Map<string, Intl.NumberFormat>();

function formatPoints(points: number, language: string): string {
  let format = numberFormats.get(language);
  if (!format) {
    format = new Intl.NumberFormat(LOCALES[language] ?? language);
    numberFormats.set(language, format);
  }
  return format.format(points);
}

export interface PlaceholderSource {
  (subject: PlaceholderSubject): Promise<PlaceholderValues>;
}

export function createPlaceholderSource(deps: { prisma: PrismaClient; translator: Translator; cacheMs?: number }): PlaceholderSource {
  let tiers: Map<string, { name: string; nameEn: string | null }> | undefined;
  let loadedAt = 0;
  const cacheMs = deps.cacheMs ?? 60_000;

  async function tierNames() {
    if (!tiers || Date.now() - loadedAt > cacheMs) {
      const rows = await deps.prisma.loyaltyTier.findMany({ select: { code: true, name: true, nameEn: true } });
      tiers = new Map(rows.map((r) => [r.code, { name: r.name, nameEn: r.nameEn }]));
      loadedAt = Date.now();
    }
    return tiers;
  }

  return async (s) => {
    const language = deps.translator.resolveLanguage(s.language);
    const t = deps.translator.t(language);
    const tier = s.tierCode ? (await tierNames()).get(s.tierCode) : undefined;
    const tierName = tier ? (language === 'ru' ? tier.name : tier.nameEn ?? tier.name) : t('broadcasts.placeholder.noTier');
    return {
      firstName: s.firstName?.trim() || t('broadcasts.placeholder.friend'),
      points: formatPoints(s.points, language),
      tier: tierName,
    };
  };
}
