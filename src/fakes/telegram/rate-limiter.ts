/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface BucketSpec {
  burst: number;
  perSecond: number;
}

export interface RateLimitConfig {
  /** false switches every limit off (benchmarks that measure the bot, not Telegram). */
  enabled: boolean;
  /** Per bot, all chats together. */
  global: BucketSpec;
  /** Per bot with `allow_paid_broadcast: true`, replaces `global`. */
  paidGlobal: BucketSpec;
  /** Per bot and private chat. */
  privateChat: BucketSpec;
  /** Per bot and group or supergroup. */
  group: BucketSpec;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  enabled: true,
  global: { burst: 30, perSecond: 30 },
  paidGlobal: { burst: 1000, perSecond: 1000 },
  privateChat: { burst: 3, perSecond: 1 },
  group: { burst: 20, perSecond: 20 / 60 },
};

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** After a 429 the bucket refuses everything until then, as Telegram does for retry_after. */
  blockedUntil: number;
}

export interface RateLimiter {
  /**
   * Takes `cost` from every bucket or from none.
   * @returns 0 when allowed, otherwise retry_after in whole seconds (>= 1).
   */
  take(keys: ReadonlyArray<{ key: string; spec: BucketSpec }>, cost: number): number;
  reset(): void;
}

export function createRateLimiter(now: () => number): RateLimiter {
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, spec: BucketSpec, at: number): void => {
    const elapsed = (at - bucket.updatedAt) / 1000;
    if (elapsed > 0) {
      bucket.tokens = Math.min(spec.burst, bucket.tokens + elapsed * spec.perSecond);
      bucket.updatedAt = at;
    }
  };

  return {
    take(keys, cost) {
      const at = now();
      let retryAfter = 0;
      const checked: Array<{ bucket: Bucket; short: boolean }> = [];
      for (const { key, spec } of keys) {
        let bucket = buckets.get(key);
        if (bucket === undefined) {
          bucket = { tokens: spec.burst, updatedAt: at, blockedUntil: 0 };
          buckets.set(key, bucket);
        }
        refill(bucket, spec, at);
        const need = Math.min(cost, spec.burst);
        let wait = 0;
        if (bucket.blockedUntil > at) wait = Math.ceil((bucket.blockedUntil - at) / 1000);
        const short = bucket.tokens + 1e-9 < need;
        if (short) wait = Math.max(wait, Math.ceil((need - bucket.tokens) / spec.perSecond));
        checked.push({ bucket, short });
        retryAfter = Math.max(retryAfter, wait);
      }
      if (retryAfter > 0) {
        retryAfter = Math.max(1, retryAfter);
        for (const { bucket, short } of checked) {
          if (short) bucket.blockedUntil = Math.max(bucket.blockedUntil, at + retryAfter * 1000);
        }
        return retryAfter;
      }
      for (const { key, spec } of keys) {
        const bucket = buckets.get(key);
        if (bucket !== undefined) bucket.tokens -= Math.min(cost, spec.burst);
      }
      return 0;
    },
    reset() {
      buckets.clear();
    },
  };
}
