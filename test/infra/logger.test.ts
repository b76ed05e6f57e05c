import { GrammyError } from 'grammy';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskPhone, maskPhonesInText } from '../../src/infra/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('logger keeps personal data out', () => {
  it('masks phones to their last two digits', () => {
    expect(maskPhone('+79991234567')).toBe('+7********67');
    expect(maskPhonesInText('call +7 (999) 123-45-67 or 89991234567 now')).toBe('call +7********67 or 8********67 now');
    // Order numbers and ids that are not phone-like stay readable.
    expect(maskPhonesInText('order A-10023 total 4990.00')).toBe('order A-10023 total 4990.00');
  });

  it('masks phones in messages, nested fields and errors, and redacts personal fields', () => {
    const { logger, lines } = capture();
    logger.info({ update: { message: { text: 'my number is +79991234567' } }, phone: '+79991234567', firstName: 'Анна' }, 'login from +79991234567');
    logger.error({ err: new Error('duplicate key phone=+79991234567') }, 'failed');
    const out = lines.join('');
    expect(out).not.toContain('79991234567');
    expect(out).not.toContain('Анна');
    expect(out).toContain('+7********67');
    expect(out).toContain('[redacted]');
  });

  it('keeps the message a failed Bot API call carried out of the error, and masks emails', () => {
    const { logger, lines } = capture();
    const err = new GrammyError("Call to 'sendMessage' failed!", { ok: false, error_code: 400, description: 'Bad Request: message is too long' }, 'sendMessage', {
      chat_id: 123,
      text: 'Имя: Вера Иванова\nEmail: vera@example.com\nТелефон: +79161234567',
    });
    logger.error({ err, updateId: 7 }, 'customer bot handler failed');
    logger.warn({ err: { message: 'could not send to vera@example.com' } }, 'failed for vera@example.com');
    const out = lines.join('');
    expect(out).not.toContain('Вера');
    expect(out).not.toContain('vera@');
    expect(out).not.toContain('79161234567');
    expect(out).toContain('message is too long');
    expect(out).toContain('***@example.com');
    expect(out).toContain('"method":"sendMessage"');
  });
});
