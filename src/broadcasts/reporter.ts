/**
 * Where a broadcast's progress is shown to staff: one message in the staff group, edited in
 * place, then a final report. Until the staff bot has its own posting queue this posts
 * through the Bot API with Telegraf's `Telegram` client (STAFF_BOT_TOKEN, STAFF_CHAT_ID,
 * TELEGRAM_API_ROOT); the interface lets the staff bot take it over later.
 */
import { Telegram } from 'telegraf';
import type { BroadcastFigures } from '../domain/broadcasts/broadcasts.service.js';
import type { TFunction } from '../infra/i18n.js';

export interface StaffPoster {
  /** Posts a new message; returns its id. */
  post(text: string): Promise<string>;
  /** Replaces the text of a message posted before. */
  edit(messageId: string, text: string): Promise<void>;
}

export function createTelegrafStaffPoster(settings: { token: string; chatId: string; apiRoot: string }): StaffPoster {
  const telegram = new Telegram(settings.token, { apiRoot: settings.apiRoot });
  return {
    async post(text) {
      const m = await telegram.sendMessage(settings.chatId, text, { link_preview_options: { is_disabled: true } });
      return String(m.message_id);
    },
    async edit(messageId, text) {
      try {
        await telegram.editMessageText(settings.chatId, Number(messageId), undefined, text, { link_preview_options: { is_disabled: true } });
      } catch (err) {
        // Same figures as last time: nothing to change, not a failure.
        if (err instanceof Error && /message is not modified/.test(err.message)) return;
        throw err;
      }
    },
  };
}

const BAR = 12;

function duration(seconds: number, t: TFunction): string {
  void t;
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/** The progress text: title and status, a bar, the figures, the rate and time to finish. */
export function progressText(f: BroadcastFigures, ratePerSecond: number, t: TFunction): string {
  const done = f.total - f.pending;
  const filled = f.total === 0 ? BAR : Math.round((done / f.total) * BAR);
  const percent = f.total === 0 ? 100 : Math.floor((done / f.total) * 100);
  const lines = [
    `${t('broadcasts.progress.title', { title: f.title })} — ${t(`broadcasts.progress.status.${f.status}`)}`,
    `${'▓'.repeat(filled)}${'░'.repeat(BAR - filled)} ${percent}%`,
    t('broadcasts.progress.counts', { sent: f.sent, blocked: f.blocked, failed: f.failed, skipped: f.skipped, pending: f.pending, total: f.total }),
  ];
  if (f.status === 'sending' && f.pending > 0) {
    const eta = ratePerSecond > 0 ? duration(f.pending / ratePerSecond, t) : '—';
    lines.push(t('broadcasts.progress.rate', { rate: ratePerSecond.toFixed(1), eta }));
  }
  if (f.status === 'sent' || f.status === 'cancelled') {
    const took = f.startedAt && f.finishedAt ? (Date.parse(f.finishedAt) - Date.parse(f.startedAt)) / 1000 : 0;
    lines.push(t('broadcasts.progress.final', { sent: f.sent, total: f.total, blocked: f.blocked, failed: f.failed, skipped: f.skipped, duration: duration(took, t) }));
  }
  return lines.join('\n');
}
