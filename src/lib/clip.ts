/**
 * Cuts a text to at most `max` characters (code points, so an emoji is never split), marking
 * the cut with "…". For shop-provided values in lists and for button labels.
 */
export function clip(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Like clip, for limits counted in UTF-16 code units (JavaScript's `length`, Telegram's text
 * limits): at most `max` units including the "…", never ending inside a surrogate pair.
 */
export function clipUtf16(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${value.slice(0, end)}…`;
}
