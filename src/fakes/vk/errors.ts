/** Error codes the fake returns, with VK's own message texts. */
export const VK_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  1: 'Unknown error occurred',
  3: 'Unknown method passed',
  5: 'User authorization failed: invalid access_token (4).',
  6: 'Too many requests per second',
  9: 'Flood control',
  10: 'Internal server error',
  12: 'Unable to compile code',
  13: 'Runtime error occurred during code invocation',
  14: 'Captcha needed',
  15: 'Access denied',
  29: 'Rate limit reached',
  100: 'One of the parameters specified was missing or invalid',
  121: 'Invalid hash',
  900: "Can't send messages for users from blacklist",
  901: "Can't send messages for users without permission",
  902: "Can't send messages to this user due to their privacy settings",
  909: "Can't edit this message, because it's too old",
  911: 'Keyboard format is invalid',
  914: 'Message is too long',
  924: "Can't delete this message for everybody",
};

/** Thrown inside method handlers; turned into VK's `{error: {...}}` envelope at the edge. */
export class VkApiError extends Error {
  readonly code: number;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: number, message?: string, extra: Record<string, unknown> = {}) {
    super(message ?? VK_ERROR_MESSAGES[code] ?? 'Unknown error occurred');
    this.code = code;
    this.extra = extra;
  }
}

/** Error 100 with VK's "missing or invalid: <detail>" wording. */
export function invalidParam(detail: string): VkApiError {
  return new VkApiError(100, `${VK_ERROR_MESSAGES[100]}: ${detail}`);
}
