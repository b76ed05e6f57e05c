/** Rendering helpers for the bot's views: the one implementation is lib/format.ts, shared with notifications. */
export { escapeHtml, formatDate, formatMoney } from '../lib/format.js';
