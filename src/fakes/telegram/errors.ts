/** An error the fake answers with, in the exact shape the Bot API uses. */
export class TelegramApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number; migrate_to_chat_id?: number },
  ) {
    super(description);
    this.name = 'TelegramApiError';
  }

  /** HTTP status the real server uses for this error code. */
  get httpStatus(): number {
    return this.errorCode;
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { ok: false, error_code: this.errorCode, description: this.description };
    if (this.parameters !== undefined) body['parameters'] = this.parameters;
    return body;
  }
}

export const badRequest = (text: string): TelegramApiError => new TelegramApiError(400, `Bad Request: ${text}`);
export const forbidden = (text: string): TelegramApiError => new TelegramApiError(403, `Forbidden: ${text}`);
export const conflict = (text: string): TelegramApiError => new TelegramApiError(409, `Conflict: ${text}`);
export const unauthorized = (): TelegramApiError => new TelegramApiError(401, 'Unauthorized');
export const notFound = (): TelegramApiError => new TelegramApiError(404, 'Not Found');
export const tooManyRequests = (retryAfter: number): TelegramApiError =>
  new TelegramApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

/** Texts copied from the real server, in one place so tests and code agree. */
export const ERRORS = {
  chatNotFound: 'chat not found',
  textEmpty: 'message text is empty',
  textTooLong: 'message is too long',
  captionTooLong: 'message caption is too long',
  buttonDataInvalid: 'BUTTON_DATA_INVALID',
  buttonUrlInvalid: 'BUTTON_URL_INVALID',
  messageToEditNotFound: 'message to edit not found',
  messageToDeleteNotFound: 'message to delete not found',
  messageToCopyNotFound: 'message to copy not found',
  messageToForwardNotFound: 'message to forward not found',
  notModified:
    'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  cantBeEdited: "message can't be edited",
  noTextToEdit: 'there is no text in the message to edit',
  noCaptionToEdit: 'there is no caption in the message to edit',
  queryTooOld: 'query is too old and response timeout expired or query ID is invalid',
  threadNotFound: 'message thread not found',
  botBlocked: 'bot was blocked by the user',
  cantInitiate: "bot can't initiate conversation with a user",
  notMember: 'bot is not a member of the supergroup chat',
  wrongFileId: 'wrong file_id or the file is temporarily unavailable',
  wrongFileIdentifier: 'wrong file identifier/HTTP URL specified',
  webhookActive: "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  otherGetUpdates: 'terminated by other getUpdates request; make sure that only one bot instance is running',
} as const;
