/**
 * pino logger that keeps personal data out of logs: phone-like digit runs and emails are
 * masked in every string (messages and fields), and fields named like personal data or
 * message bodies are redacted — in errors too (a failed Bot API call carries the whole
 * message it tried to send: names, phones, emails, addresses).
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

// +7 999 123-45-67, 89991234567, (999) 123 45 67 ... : 10-15 digits with separators.
const PHONE_LIKE = /(?<![\w.])\+?\d(?:[\s().-]*\d){9,14}(?![\w.])/g;

/** Masks a phone to its last two digits: "+7*******67". */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 4) return '***';
  return `${phone.trim().startsWith('+') ? '+' : ''}${digits[0]}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
}

const EMAIL_LIKE = /[^\s@<>()"',;:]+@([^\s@<>()"',;:]+\.[^\s@<>()"',;:]+)/g;

/** Masks phone-like digit runs and emails ("***@example.com") in a text. */
export function maskPhonesInText(text: string): string {
  return text.replace(PHONE_LIKE, (match) => maskPhone(match)).replace(EMAIL_LIKE, (_m, domain: string) => `***@${domain}`);
}

const PERSONAL_KEYS = new Set([
  'phone', 'phone_number', 'phoneNumber', 'firstName', 'first_name', 'lastName', 'last_name',
  'email', 'birthday', 'address', 'street', 'house', 'apartment', 'contact', 'code', 'token',
  'access_token', 'authorization', 'secret', 'password',
  // Message bodies (Bot API payloads, VK params, updates): whatever the person or the bot wrote.
  'text', 'caption', 'message', 'request_params', 'params',
]);

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskPhonesInText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = PERSONAL_KEYS.has(key) && v !== null && v !== undefined ? '[redacted]' : scrub(v, depth + 1);
  }
  return out;
}

export interface LoggerSettings {
  level: string;
  pretty?: boolean;
  /** For tests: where log lines go. */
  destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      log: (object) => scrub(object, 0) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? maskPhonesInText(a) : a)) as Parameters<typeof method>;
        method.apply(this, masked);
      },
    },
    serializers: {
      err: (err: unknown) => {
        const { type, message, stack, ...rest } = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
        return {
          ...(scrub(rest, 0) as Record<string, unknown>),
          type,
          message: maskPhonesInText(String(message ?? '')),
          ...(typeof stack === 'string' ? { stack: maskPhonesInText(stack) } : {}),
        };
      },
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
