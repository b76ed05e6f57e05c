/**
 * Files between the two bots and VK. Telegram file_ids belong to the bot that received them,
 * so a file crosses from the customer bot to the staff bot (and back) by download + upload;
 * a VK file is downloaded from its URL. Bots may download up to 20 MB (Bot API limit).
 */
import type { Attachment } from '../domain/support/support.service.js';

export const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

export class FileUnavailable extends Error {
  override name = 'FileUnavailable';
}

export interface FileSource {
  /** Downloads one attachment; throws FileUnavailable when it cannot be had. */
  fetch(attachment: Attachment): Promise<{ data: Buffer; fileName: string }>;
}

/** Bot API getFile + /file/bot<token>/<path> for a given bot. */
export function telegramFiles(settings: { token: string; apiRoot: string; timeoutMs?: number }) {
  const timeout = settings.timeoutMs ?? 30_000;
  return async (fileId: string): Promise<{ data: Buffer; path: string }> => {
    const res = await fetch(`${settings.apiRoot}/bot${settings.token}/getFile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file_id: fileId }),
      signal: AbortSignal.timeout(timeout),
    });
    const body = (await res.json().catch(() => ({}))) as { ok?: boolean; result?: { file_path?: string; file_size?: number }; description?: string };
    if (!body.ok || !body.result?.file_path) throw new FileUnavailable(body.description ?? `getFile answered ${res.status}`);
    if ((body.result.file_size ?? 0) > MAX_DOWNLOAD_BYTES) throw new FileUnavailable('file is too big to download (over 20 MB)');
    const path = body.result.file_path;
    return { data: await download(`${settings.apiRoot}/file/bot${settings.token}/${path}`, timeout), path };
  };
}

export async function download(url: string, timeoutMs = 30_000): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new FileUnavailable(`download failed: ${(err as Error).message}`);
  }
  if (!res.ok) throw new FileUnavailable(`download answered ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_DOWNLOAD_BYTES) throw new FileUnavailable('file is too big to download (over 20 MB)');
  const data = Buffer.from(await res.arrayBuffer());
  if (data.length > MAX_DOWNLOAD_BYTES) throw new FileUnavailable('file is too big to download (over 20 MB)');
  return data;
}

const EXT: Record<Attachment['kind'], string> = { photo: 'jpg', document: 'bin', voice: 'ogg', audio: 'mp3', video: 'mp4', video_note: 'mp4', animation: 'mp4', sticker: 'webp' };

/** Where each attachment source is read from: the customer bot, the staff bot, VK URLs. */
export function createFileSource(sources: { telegram?: (fileId: string) => Promise<{ data: Buffer; path: string }>; staff?: (fileId: string) => Promise<{ data: Buffer; path: string }> }): FileSource {
  return {
    async fetch(a) {
      const name = (path: string) => a.fileName ?? (path.split('/').pop() || `${a.kind}.${EXT[a.kind]}`);
      if (a.source === 'vk') {
        if (!/^https?:\/\//.test(a.ref)) throw new FileUnavailable('not a URL');
        const data = await download(a.ref);
        return { data, fileName: name(new URL(a.ref).pathname) };
      }
      const from = a.source === 'telegram' ? sources.telegram : sources.staff;
      if (!from) throw new FileUnavailable(`no ${a.source} bot to download from`);
      const file = await from(a.ref);
      return { data: file.data, fileName: name(file.path) };
    },
  };
}
