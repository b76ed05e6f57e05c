/** A file part of a multipart request. */
export interface UploadedPart {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  fields: Record<string, unknown>;
  files: Map<string, UploadedPart>;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/**
 * A small multipart/form-data parser: enough for grammY (`content-disposition:form-data;name="x";filename=y`,
 * no spaces, unquoted filename) and Telegraf (`form-data; name="x"; filename="y"`).
 */
export function parseMultipart(body: Buffer, contentType: string): ParsedBody {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2]?.trim();
  const fields: Record<string, unknown> = {};
  const files = new Map<string, UploadedPart>();
  if (boundary === undefined) return { fields, files };
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    let partStart = start + delimiter.length;
    if (body[partStart] === 0x2d && body[partStart + 1] === 0x2d) break; // closing "--boundary--"
    if (body[partStart] === 0x0d && body[partStart + 1] === 0x0a) partStart += 2;
    const next = body.indexOf(delimiter, partStart);
    if (next < 0) break;
    // The CRLF before the next delimiter belongs to the delimiter.
    let partEnd = next;
    if (body[partEnd - 2] === 0x0d && body[partEnd - 1] === 0x0a) partEnd -= 2;
    const headerEnd = body.indexOf(CRLF_CRLF, partStart);
    if (headerEnd >= 0 && headerEnd <= partEnd) {
      const headers = body.subarray(partStart, headerEnd).toString('utf8');
      const data = body.subarray(headerEnd + 4, partEnd);
      const disposition = /content-disposition\s*:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
      const name = /(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(disposition);
      const filename = /(?:^|;)\s*filename\s*=\s*(?:"([^"]*)"|([^;\r\n]*))/i.exec(disposition);
      const fieldName = name?.[1] ?? name?.[2];
      if (fieldName !== undefined) {
        if (filename !== null) {
          files.set(fieldName, {
            filename: (filename[1] ?? filename[2] ?? '').trim(),
            contentType: /content-type\s*:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream',
            data: Buffer.from(data),
          });
        } else {
          fields[fieldName] = data.toString('utf8');
        }
      }
    }
    start = next;
  }
  return { fields, files };
}

export function parseUrlEncoded(body: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) fields[key] = value;
  return fields;
}
