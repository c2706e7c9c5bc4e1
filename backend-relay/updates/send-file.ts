/**
 * Sends a release file with HTTP range support: electron-updater's differential download asks
 * for single ranges and for many at once (multipart/byteranges), and falls back to the full
 * file when a server cannot. Serving ranges saves most of an update's bytes on a mobile link.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** electron-updater sends at most 1000 ranges per request. */
const MAX_RANGES = 1000;

export type ByteRange = { start: number; end: number }; // inclusive

/** Parses a Range header for a file of `size` bytes: null means "send it whole", [] unsatisfiable. */
export function parseRange(header: string | undefined, size: number): ByteRange[] | null {
  if (!header) return null;
  const m = /^bytes=(.+)$/.exec(header.trim());
  if (!m) return null; // unknown unit: RFC 9110 says ignore
  const ranges: ByteRange[] = [];
  for (const part of m[1]!.split(',')) {
    const r = /^\s*(\d*)-(\d*)\s*$/.exec(part);
    if (!r || (r[1] === '' && r[2] === '')) return null;
    let start: number;
    let end: number;
    if (r[1] === '') {
      const suffix = Number(r[2]);
      if (suffix === 0) continue;
      start = Math.max(0, size - suffix);
      end = size - 1;
    } else {
      start = Number(r[1]);
      if (r[2] !== '' && Number(r[2]) < start) return null; // malformed: ignore the header
      if (start >= size) continue; // unsatisfiable part
      end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
    }
    ranges.push({ start, end });
  }
  if (ranges.length > MAX_RANGES) return null;
  return ranges;
}

/**
 * Ranges that overlap, or come out of order, are merged (RFC 9110, section 14.3, allows it): a thousand
 * copies of `0-` asked for the file a thousand times over in one small request. Ascending,
 * disjoint ranges (all electron-updater asks for, one part per range it expects) stay as they
 * are. Either way the parts add up to at most the file's size.
 */
export function coalesceRanges(ranges: ByteRange[]): ByteRange[] {
  if (ranges.every((r, i) => i === 0 || r.start > ranges[i - 1]!.end)) return ranges;
  const merged: ByteRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

export function sendFile(reply: FastifyReply, file: { path: string; size: number }, rangeHeader: string | undefined, contentType: string): FastifyReply {
  reply.header('accept-ranges', 'bytes');
  const parsed = parseRange(rangeHeader, file.size);
  const ranges = parsed && coalesceRanges(parsed);
  if (ranges === null) {
    return reply.code(200).header('content-type', contentType).header('content-length', file.size).send(createReadStream(file.path));
  }
  if (ranges.length === 0) {
    return reply
      .code(416)
      .header('content-range', `bytes */${file.size}`)
      .send({ error: { code: 'range_not_satisfiable', message: `the file has ${file.size} bytes` } });
  }
  if (ranges.length === 1) {
    const { start, end } = ranges[0]!;
    return reply
      .code(206)
      .header('content-type', contentType)
      .header('content-range', `bytes ${start}-${end}/${file.size}`)
      .header('content-length', end - start + 1)
      .send(createReadStream(file.path, { start, end }));
  }
  const boundary = randomBytes(12).toString('hex');
  const heads = ranges.map((r, i) =>
    Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${file.size}\r\n\r\n`),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = heads.reduce((n, h, i) => n + h.length + ranges[i]!.end - ranges[i]!.start + 1, tail.length);
  const many = ranges;
  async function* parts() {
    for (let i = 0; i < many.length; i++) {
      yield heads[i]!;
      yield* createReadStream(file.path, { start: many[i]!.start, end: many[i]!.end });
    }
    yield tail;
  }
  return reply.code(206).header('content-type', `multipart/byteranges; boundary=${boundary}`).header('content-length', length).send(Readable.from(parts()));
}
