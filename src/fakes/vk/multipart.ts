/** One part of a multipart/form-data body. */
export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Minimal multipart/form-data parser: enough for vk-io's form-data-encoder and browsers.
 * The body is already buffered (uploads in tests are small), so a linear indexOf scan is fine.
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    // "--" right after the delimiter closes the body.
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break;
    const headersEnd = body.indexOf(CRLF2, start);
    if (headersEnd === -1) break;
    const next = body.indexOf(delimiter, headersEnd + 4);
    if (next === -1) break;
    const headerText = body.subarray(start, headersEnd).toString('utf8');
    // Content ends before the CRLF that precedes the next delimiter.
    const data = body.subarray(headersEnd + 4, Math.max(headersEnd + 4, next - 2));
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headerText)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const type = /content-type:\s*([^\r\n]*)/i.exec(headerText)?.[1]?.trim();
    if (name !== undefined) {
      const part: MultipartPart = { name, data };
      if (filename !== undefined) part.filename = filename;
      if (type !== undefined) part.contentType = type;
      parts.push(part);
    }
    pos = next;
  }
  return parts;
}
