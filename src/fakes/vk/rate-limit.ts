/**
 * "At most `limit` accepted requests in any `windowMs`": a ring buffer of the last `limit`
 * accepted timestamps, O(1) per request. Rejected requests are not counted.
 */
export function createSlidingWindow(limit: number, windowMs = 1000): (now: number) => boolean {
  const stamps = new Float64Array(Math.max(1, limit)).fill(Number.NEGATIVE_INFINITY);
  let index = 0;
  return (now) => {
    const oldest = stamps[index] ?? Number.NEGATIVE_INFINITY;
    if (now - oldest < windowMs) return false;
    stamps[index] = now;
    index = (index + 1) % stamps.length;
    return true;
  };
}
