/**
 * The files of a customer's message as support attachments: Telegram's (file_ids of the
 * customer bot) or VK's (download URLs the VK converter put in `vk_files`). Kinds VK gives no
 * file for (video, wall posts, links...) come back as `unsupported` so the operator is told.
 */
import type { Attachment } from '../../domain/support/support.service.js';

type Loose = Record<string, unknown>;
const fileOf = (v: unknown) => (v && typeof v === 'object' ? (v as { file_id?: unknown; file_name?: unknown; mime_type?: unknown; file_size?: unknown }) : undefined);

export function customerAttachments(message: unknown): { attachments: Attachment[]; unsupported: string[] } {
  const m = (message ?? {}) as Loose;
  const unsupported = Array.isArray(m.vk_unsupported) ? m.vk_unsupported.filter((x): x is string => typeof x === 'string') : [];
  if (Array.isArray(m.vk_files)) {
    const attachments = (m.vk_files as Array<{ kind: Attachment['kind']; url: string; fileName?: string; size?: number }>).map((f) => ({ kind: f.kind, source: 'vk' as const, ref: f.url, fileName: f.fileName, size: f.size }));
    return { attachments, unsupported };
  }
  const attachments: Attachment[] = [];
  const add = (kind: Attachment['kind'], value: unknown) => {
    const f = fileOf(value);
    if (typeof f?.file_id === 'string') {
      attachments.push({ kind, source: 'telegram', ref: f.file_id, fileName: typeof f.file_name === 'string' ? f.file_name : undefined, mimeType: typeof f.mime_type === 'string' ? f.mime_type : undefined, size: typeof f.file_size === 'number' ? f.file_size : undefined });
    }
  };
  if (Array.isArray(m.photo) && m.photo.length > 0) add('photo', m.photo[m.photo.length - 1]);
  if (m.animation) add('animation', m.animation);
  else if (m.document) add('document', m.document);
  for (const kind of ['voice', 'audio', 'video', 'video_note', 'sticker'] as const) if (m[kind]) add(kind, m[kind]);
  return { attachments, unsupported };
}

/** Text of the message (text or caption), with a line per part that could not be carried. */
export function customerText(message: unknown, unsupported: string[], line: (kind: string) => string): string {
  const m = (message ?? {}) as Loose;
  const text = typeof m.text === 'string' ? m.text : typeof m.caption === 'string' ? m.caption : '';
  return [text, ...unsupported.map(line)].filter(Boolean).join('\n');
}
