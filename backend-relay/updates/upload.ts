/**
 * Receives one release file over HTTP into <RELAY_UPDATES_DIR>/<version>/: streamed to a hidden
 * temporary file, fsynced, then renamed, so a crash never leaves a half file under its real name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, openSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Installers are tens of MB; this only stops a runaway upload from filling the disk. */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

export class UploadTooLarge extends Error {
  override name = 'UploadTooLarge';
}

export async function receiveFile(
  folder: string,
  name: string,
  body: Readable,
  maxBytes = MAX_UPLOAD_BYTES,
): Promise<{ name: string; size: number; sha512: string }> {
  mkdirSync(folder, { recursive: true });
  const tmp = path.join(folder, `.${name}.${randomBytes(6).toString('hex')}.partial`);
  const hash = createHash('sha512');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new UploadTooLarge(`the file is larger than ${maxBytes} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(tmp));
    fsyncPath(tmp);
    renameSync(tmp, path.join(folder, name));
    fsyncPath(folder); // the rename itself survives a power cut
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { name, size, sha512: hash.digest('base64') };
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
