/*
 * The Bot API objects the fake produces, in the wire shape (snake_case).
 * Deliberately loose (no discriminated unions): they are built by the fake and read by tests.
 */

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  can_join_groups?: boolean;
  can_read_all_group_messages?: boolean;
  supports_inline_queries?: boolean;
}

export type TgChatType = 'private' | 'group' | 'supergroup' | 'channel';

export interface TgChat {
  id: number;
  type: TgChatType;
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  is_forum?: true;
}

export interface TgMessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
  user?: TgUser;
}

export interface TgPhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size?: number;
}

export interface TgDocument {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size?: number;
}

/** Where a forwarded message came from (Bot API 7.0+ MessageOrigin; replaced forward_from/forward_date). */
export type TgMessageOrigin =
  | { type: 'user'; date: number; sender_user: TgUser }
  | { type: 'hidden_user'; date: number; sender_user_name: string }
  | { type: 'chat'; date: number; sender_chat: TgChat; author_signature?: string }
  | { type: 'channel'; date: number; chat: TgChat; message_id: number; author_signature?: string };

export interface TgContact {
  phone_number: string;
  first_name: string;
  last_name?: string;
  user_id?: number;
  vcard?: string;
}

export interface TgInlineKeyboardButton {
  text: string;
  callback_data?: string;
  url?: string;
  [key: string]: unknown;
}

export interface TgInlineKeyboardMarkup {
  inline_keyboard: TgInlineKeyboardButton[][];
}

/** Any reply_markup a bot may send: inline keyboard, reply keyboard, remove or force reply. */
export type TgReplyMarkup = Record<string, unknown>;

export interface TgForumTopic {
  message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
}

export interface TgMessage {
  message_id: number;
  message_thread_id?: number;
  is_topic_message?: true;
  from?: TgUser;
  sender_chat?: TgChat;
  date: number;
  chat: TgChat;
  edit_date?: number;
  reply_to_message?: TgMessage;
  forward_origin?: TgMessageOrigin;
  media_group_id?: string;
  text?: string;
  entities?: TgMessageEntity[];
  caption?: string;
  caption_entities?: TgMessageEntity[];
  photo?: TgPhotoSize[];
  document?: TgDocument;
  /** Voice, audio, video, animation, video notes and stickers carry a file like a document. */
  voice?: TgDocument & { duration: number };
  audio?: TgDocument & { duration: number };
  video?: TgDocument & { duration: number; width: number; height: number };
  animation?: TgDocument & { duration: number; width: number; height: number };
  video_note?: TgDocument & { duration: number; length: number };
  sticker?: TgDocument & { type: 'regular'; width: number; height: number; is_animated: boolean; is_video: boolean; emoji?: string };
  contact?: TgContact;
  /** Only inline keyboards appear in Message objects, as in the real API. */
  reply_markup?: TgInlineKeyboardMarkup;
  forum_topic_created?: { name: string; icon_color: number; icon_custom_emoji_id?: string };
  forum_topic_edited?: { name?: string; icon_custom_emoji_id?: string };
  forum_topic_closed?: Record<string, never>;
  forum_topic_reopened?: Record<string, never>;
  has_protected_content?: true;
}

export interface TgChatMember {
  status: 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked';
  user: TgUser;
  until_date?: number;
  [key: string]: unknown;
}

export interface TgChatMemberUpdated {
  chat: TgChat;
  from: TgUser;
  date: number;
  old_chat_member: TgChatMember;
  new_chat_member: TgChatMember;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message?: TgMessage;
  chat_instance: string;
  data?: string;
}

export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  edited_message?: TgMessage;
  callback_query?: TgCallbackQuery;
  my_chat_member?: TgChatMemberUpdated;
  [key: string]: unknown;
}

export interface TgBotCommand {
  command: string;
  description: string;
}
