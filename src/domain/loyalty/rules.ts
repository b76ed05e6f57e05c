/**
 * Loyalty rules as pure functions: which tier a lifetime spend buys, how many points a
 * delivered order earns, when points expire and which credits a debit consumes (FIFO).
 * The ledger (ledger.ts) applies them to the database.
 */

export interface TierRule {
  code: string;
  name: string;
  nameEn: string;
  /** Lifetime spend from which the tier applies. */
  minSpend: number;
  /** Percent of a delivered order credited as points. */
  accrualPercent: number;
}

/** Tiers sorted by minSpend ascending; the config guarantees the first starts at 0. */
export function sortTiers(tiers: readonly TierRule[]): TierRule[] {
  return [...tiers].sort((a, b) => a.minSpend - b.minSpend);
}

/** The highest tier whose threshold the spend reaches. */
export function tierForSpend(tiers: readonly TierRule[], lifetimeSpend: number): TierRule | undefined {
  let found: TierRule | undefined;
  for (const tier of sortTiers(tiers)) if (lifetimeSpend >= tier.minSpend) found = tier;
  return found;
}

/** The next tier above the spend and how much more spend it needs; undefined at the top. */
export function nextTier(tiers: readonly TierRule[], lifetimeSpend: number): { tier: TierRule; spendNeeded: number } | undefined {
  const tier = sortTiers(tiers).find((t) => t.minSpend > lifetimeSpend);
  return tier ? { tier, spendNeeded: roundMoney(tier.minSpend - lifetimeSpend) } : undefined;
}

/**
 * What a delivered order counts for: the goods paid for, without delivery. Points and
 * lifetime spend are both computed from it, so returns undo exactly what delivery added.
 */
export function accrualBase(order: { total: number; deliveryCost: number }): number {
  return Math.max(0, roundMoney(order.total - order.deliveryCost));
}

/** Whole points, rounded down (a shop never credits a fraction it cannot redeem). */
export function accrualPoints(base: number, percent: number): number {
  if (base <= 0 || percent <= 0) return 0;
  // Integer arithmetic in kopecks avoids 0.07 * 100 = 7.000000000000001 surprises.
  return Math.floor((Math.round(base * 100) * Math.round(percent * 100)) / 1_000_000);
}

export function expiryDate(creditedAt: Date, ttlDays: number): Date {
  return new Date(creditedAt.getTime() + ttlDays * 24 * 3600 * 1000);
}

export interface OpenCredit {
  id: string;
  remaining: number;
  expiresAt: Date | null;
  createdAt: Date;
}

/**
 * Which credits a debit of `points` consumes: the ones expiring first, then the oldest
 * (FIFO), so customers lose as little as possible to expiry. Throws if the credits cannot
 * cover the debit; callers check the balance first.
 */
export function allocateDebit(credits: readonly OpenCredit[], points: number): Array<{ id: string; take: number }> {
  const ordered = [...credits]
    .filter((c) => c.remaining > 0)
    .sort((a, b) => (a.expiresAt?.getTime() ?? Infinity) - (b.expiresAt?.getTime() ?? Infinity) || a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const takes: Array<{ id: string; take: number }> = [];
  let left = points;
  for (const credit of ordered) {
    if (left <= 0) break;
    const take = Math.min(credit.remaining, left);
    takes.push({ id: credit.id, take });
    left -= take;
  }
  if (left > 0) throw new RangeError(`credits cover ${points - left} of ${points} points`);
  return takes;
}

export function roundMoney(n: number): number {
  return Math.round(n * 100) / 100;
}
