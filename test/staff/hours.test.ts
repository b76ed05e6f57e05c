import { describe, expect, it } from 'vitest';
import { parseWorkingHours } from '../../src/domain/support/hours.js';
import { planPosts } from '../../src/staff/staff-group.worker.js';
import { staffCb, topicTitle } from '../../src/staff/render.js';
import { loadConfig } from '../../src/config/index.js';

describe('working hours', () => {
  const hours = parseWorkingHours('mon-fri 09:00-18:00, sat 10:00-16:00', 'Europe/Moscow');
  // 2026-12-07 is a Monday; Moscow is UTC+3.
  it('knows when the team is at work, in the configured zone', () => {
    expect(hours.isOpen(new Date('2026-12-07T06:00:00Z'))).toBe(true); // Mon 09:00
    expect(hours.isOpen(new Date('2026-12-07T05:59:00Z'))).toBe(false);
    expect(hours.isOpen(new Date('2026-12-07T15:00:00Z'))).toBe(false); // Mon 18:00
    expect(hours.isOpen(new Date('2026-12-12T08:00:00Z'))).toBe(true); // Sat 11:00
    expect(hours.isOpen(new Date('2026-12-13T08:00:00Z'))).toBe(false); // Sun
  });
  it('says when it opens next', () => {
    expect(hours.nextOpening(new Date('2026-12-12T14:00:00Z'))?.toISOString()).toBe('2026-12-14T06:00:00.000Z'); // Sat 17:00 → Mon 09:00
    expect(hours.nextOpening(new Date('2026-12-07T16:30:00Z'))?.toISOString()).toBe('2026-12-08T06:00:00.000Z');
    expect(parseWorkingHours('', 'UTC').isOpen(new Date())).toBe(true);
  });
  it('refuses a bad schedule with the entry named, and so does the config', () => {
    expect(() => parseWorkingHours('mon-fry 09:00-18:00', 'UTC')).toThrow(/mon-fry/);
    expect(() => parseWorkingHours('mon 18:00-09:00', 'UTC')).toThrow();
    expect(() => loadConfig({ SUPPORT_HOURS: 'weekdays' })).toThrow(/SUPPORT_HOURS/);
    expect(() => loadConfig({ STAFF_CHAT_ID: '-100,abc' })).toThrow(/STAFF_CHAT_ID/);
    expect(() => loadConfig({ STAFF_WEBHOOK_URL: 'https://x.test/telegram/staff/webhook' })).toThrow(/STAFF_WEBHOOK_SECRET/);
    expect(loadConfig({ STAFF_CHAT_ID: '-1001, -1002', STAFF_ADMIN_IDS: '7' }).staff).toMatchObject({ chatIds: ['-1001', '-1002'], adminIds: ['7'] });
  });
});

describe('staff group posts', () => {
  it('merges consecutive plain texts, keeps files apart, splits an over-long caption', () => {
    const photo = { kind: 'photo' as const, source: 'telegram' as const, ref: 'f1' };
    const posts = planPosts([
      { id: 'a', text: 'one', attachments: [] },
      { id: 'b', text: 'two', attachments: [] },
      { id: 'c', text: 'see', attachments: [photo] },
      { id: 'd', text: 'x'.repeat(2000), attachments: [photo] },
      { id: 'e', text: 'y'.repeat(3999), attachments: [] },
      { id: 'f', text: 'z', attachments: [] },
    ]);
    expect(posts.map((p) => [p.ids, p.text === null ? null : p.text.slice(0, 9), p.attachment?.kind ?? null])).toEqual([
      [['a', 'b'], 'one\n\ntwo', null],
      [['c'], 'see', 'photo'],
      [[], 'xxxxxxxxx', null],
      [['d'], null, 'photo'],
      [['e'], 'yyyyyyyyy', null],
      [['f'], 'z', null],
    ]);
  });
  it('callback data round-trips and rejects forgeries; titles fit 128 characters', () => {
    const id = '01a24bee-2d2b-7683-968e-ee329a14f319';
    for (const a of [{ action: 'take', conversationId: id }, { action: 'to', conversationId: id, telegramUserId: '12345678901' }] as const) {
      const data = staffCb.encode(a);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(staffCb.decode(data)).toEqual(a);
    }
    for (const bad of ['st:take', 'st:take:x', `st:drop:${id}`, `st:to:${id}:abc`, `xx:take:${id}`, undefined]) expect(staffCb.decode(bad)).toBeNull();
    expect(topicTitle({ status: 'waiting', displayName: 'Я'.repeat(300), platform: 'vk', assignee: { id: 'x', name: 'O'.repeat(100) } }).length).toBeLessThanOrEqual(128);
  });
});
