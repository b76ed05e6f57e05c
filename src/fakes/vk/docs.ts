/**
 * Documents and voice messages a community bot uploads for a dialog, as VK does it:
 * `docs.getMessagesUploadServer({ type: 'doc' | 'audio_message', peer_id })` → POST multipart
 * `file` to the upload URL → `{ file }` → `docs.save({ file, title })` →
 * `{ type, doc | audio_message }` → attach `doc<owner>_<id>_<access_key>` to messages.send.
 * The saved file is served back at its URL, so a test can check the bytes that arrived.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isOggOpus } from '../../lib/media.js';
import { VkApiError, invalidParam } from './errors.js';
import { parseMultipart } from './multipart.js';

/** VK's documented limit for one document. */
export const DOC_MAX_BYTES = 200 * 1024 * 1024;
const TITLE_MAX = 128;
const UPLOAD_TTL_MS = 3_600_000;

export type FakeVkDocType = 'doc' | 'audio_message';

/** A saved document or voice message, with its bytes (for inspection). */
export interface FakeVkStoredDoc {
  type: FakeVkDocType;
  ownerId: number;
  id: number;
  accessKey: string;
  title: string;
  data: Buffer;
  /** The peer the upload server was asked for. */
  peerId: number;
  /** The object VK returns from docs.save and puts in a message's attachment. */
  object: Record<string, unknown>;
}

interface UploadServer {
  groupId: number;
  type: FakeVkDocType;
  peerId: number;
  at: number;
}

interface Uploaded {
  groupId: number;
  type: FakeVkDocType;
  peerId: number;
  data: Buffer;
  filename: string;
}

export interface DocsContext {
  group: { id: number };
  params: Record<string, string>;
}

/** VK's numeric doc type by extension (1 text, 2 archive, 3 gif, 4 image, 5 audio, 6 video, 7 e-book, 8 other). */
function docKind(ext: string): number {
  if (['txt', 'doc', 'docx', 'rtf', 'odt', 'pdf', 'xls', 'xlsx', 'csv'].includes(ext)) return ext === 'pdf' ? 7 : 1;
  if (['zip', 'rar', '7z', 'tar', 'gz'].includes(ext)) return 2;
  if (ext === 'gif') return 3;
  if (['jpg', 'jpeg', 'png', 'webp', 'bmp'].includes(ext)) return 4;
  if (['mp3', 'ogg', 'oga', 'opus', 'm4a', 'wav'].includes(ext)) return 5;
  if (['mp4', 'mov', 'avi', 'mkv', 'webm'].includes(ext)) return 6;
  return 8;
}

export function createFakeDocs(deps: { now: () => number; origin: () => string; nextId: () => number }) {
  const secret = randomBytes(16).toString('hex');
  const servers = new Map<string, UploadServer>();
  const uploaded = new Map<string, Uploaded>();
  const docs = new Map<string, FakeVkStoredDoc>();

  const sign = (key: string) => createHash('sha1').update(`${secret}|${key}`).digest('hex').slice(0, 20);

  const handlers = {
    'docs.getMessagesUploadServer': ({ group, params }: DocsContext) => {
      const type = (params.type ?? 'doc') as FakeVkDocType;
      if (type !== 'doc' && type !== 'audio_message') throw invalidParam('type should be doc, audio_message or graffiti');
      // A community token must name the dialog the file is for.
      const peerId = Number(params.peer_id);
      if (params.peer_id === undefined || !Number.isSafeInteger(peerId) || peerId === 0) throw invalidParam('peer_id is undefined');
      const key = randomBytes(8).toString('hex');
      servers.set(key, { groupId: group.id, type, peerId, at: deps.now() });
      return { upload_url: `${deps.origin()}/upload/doc/${key}?type=${type}&peer_id=${peerId}` };
    },

    'docs.save': ({ group, params }: DocsContext) => {
      const file = params.file;
      if (file === undefined || file === '') throw invalidParam('file is undefined');
      const [key, signature] = file.split('|');
      const upload = key === undefined ? undefined : uploaded.get(key);
      // A file string from another upload, another community or tampered with: VK cannot save it.
      if (!upload || signature !== sign(key!) || upload.groupId !== group.id) throw new VkApiError(105, "Couldn't save file");
      uploaded.delete(key!);
      const id = deps.nextId();
      const ownerId = -group.id;
      const accessKey = randomBytes(9).toString('hex');
      const title = (params.title ?? upload.filename).slice(0, TITLE_MAX) || upload.filename;
      const date = Math.floor(deps.now() / 1000);
      let object: Record<string, unknown>;
      if (upload.type === 'audio_message') {
        const link = `${deps.origin()}/docs/${ownerId}_${id}.ogg`;
        object = { id, owner_id: ownerId, duration: Math.max(1, Math.round(upload.data.length / 2000)), waveform: [0, 5, 10, 5, 0], link_ogg: link, link_mp3: link.replace(/\.ogg$/, '.mp3'), access_key: accessKey };
      } else {
        const ext = (/\.([A-Za-z0-9]{1,8})$/.exec(upload.filename)?.[1] ?? 'bin').toLowerCase();
        object = { id, owner_id: ownerId, title, size: upload.data.length, ext, date, type: docKind(ext), url: `${deps.origin()}/docs/${ownerId}_${id}.${ext}`, access_key: accessKey };
      }
      docs.set(`${ownerId}_${id}`, { type: upload.type, ownerId, id, accessKey, title, data: upload.data, peerId: upload.peerId, object });
      return { type: upload.type, [upload.type]: object };
    },
  };

  function routes(app: FastifyInstance): void {
    app.post('/upload/doc/:key', async (request) => {
      const { key } = request.params as { key: string };
      const server = servers.get(key);
      // The upload host answers 200 with an error object, as VK's does.
      if (!server || deps.now() - server.at > UPLOAD_TTL_MS) return { error: 'upload_url_expired', error_descr: 'upload url is unknown or expired' };
      const body = request.body;
      const parts = Buffer.isBuffer(body) ? parseMultipart(body, String(request.headers['content-type'] ?? '')) : [];
      const file = parts.find((p) => p.name === 'file' && p.filename !== undefined);
      if (!file || file.data.length === 0) return { error: 'no_file', error_descr: 'no file in the "file" field' };
      if (file.data.length > DOC_MAX_BYTES) return { error: 'file_too_big', error_descr: 'a document may be up to 200 MB' };
      if (server.type === 'audio_message' && !isOggOpus(file.data)) return { error: 'invalid_audio', error_descr: 'a voice message must be ogg/opus' };
      const uploadKey = randomBytes(16).toString('hex');
      uploaded.set(uploadKey, { groupId: server.groupId, type: server.type, peerId: server.peerId, data: Buffer.from(file.data), filename: file.filename || 'file' });
      return { file: `${uploadKey}|${sign(uploadKey)}` };
    });

    app.get('/docs/:file', async (request, reply) => {
      const { file } = request.params as { file: string };
      const stored = docs.get(file.replace(/\.[A-Za-z0-9]+$/, ''));
      if (!stored) return reply.code(404).send('not found');
      return reply.type(stored.type === 'audio_message' ? 'audio/ogg' : 'application/octet-stream').send(stored.data);
    });
  }

  return {
    handlers,
    routes,
    /** The attachment a message carries for `doc<owner>_<id>` / `audio_message<owner>_<id>`, if saved here. */
    resolve(type: string, ownerId: string, id: string): { type: FakeVkDocType; object: Record<string, unknown> } | undefined {
      const stored = docs.get(`${ownerId}_${id}`);
      if (!stored || stored.type !== type) return undefined;
      return { type: stored.type, object: stored.object };
    },
    /** A saved document by its attachment string or `<owner>_<id>`. */
    get(ref: string): FakeVkStoredDoc | undefined {
      const m = /(-?\d+)_(\d+)/.exec(ref);
      return m ? docs.get(`${m[1]}_${m[2]}`) : undefined;
    },
    clear(): void {
      servers.clear();
      uploaded.clear();
      docs.clear();
    },
  };
}
