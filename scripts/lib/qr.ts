/** Decodes the QR code in a PNG screenshot, as a passenger's camera would. */
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

export function decodeQrFromPng(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  const result = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
  return result?.data ?? null;
}
