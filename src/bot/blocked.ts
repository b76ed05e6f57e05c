/**
 * Whether a failed Bot API call means the person blocked the bot. Telegram answers 403
 * ("Forbidden: bot was blocked by the user", "user is deactivated"); the VK bridge turns VK's
 * 900/901/902 (blacklisted, no permission to write, privacy) into the same 403, so one test
 * serves both. Whoever sees it records it with `identities.markBlocked` — the one write that
 * decides an identity is blocked — and says nothing more to that dialog.
 */
import { GrammyError } from 'grammy';

export function isBlockedByUser(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 403;
}
