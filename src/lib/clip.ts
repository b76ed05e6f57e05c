/**
 * Cuts a text to at most `max` characters (code points, so an emoji is never split), marking
 * the cut with "…". For shop-provided values in lists and for button labels.
 */
export function clip(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}
