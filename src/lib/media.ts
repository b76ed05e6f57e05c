/**
 * What a file is, from its first bytes (names and MIME types can lie or be missing).
 */

/**
 * An Ogg container whose first stream is Opus (the "OpusHead" packet is on the first page):
 * what Telegram voice messages are, and the only audio VK takes as a voice message.
 */
export function isOggOpus(data: Uint8Array): boolean {
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 128));
  return head.subarray(0, 4).toString('latin1') === 'OggS' && head.includes('OpusHead');
}
