/**
 * Reads QR data as a phone would: either the sandbox URL `<publicUrl>/qr/<merchant>/<code>` or
 * Hips's self-generated form `<merchant>/<code>`, each with an optional `?dynamic=<json>`.
 */
import { badRequest } from './errors.js';

export interface ParsedQrData {
  merchantId: string;
  qrCode: string;
  /** The dynamic JSON as text, or null. */
  dynamic: string | null;
}

export function parseQrData(raw: string): ParsedQrData {
  const text = raw.trim();
  const queryAt = text.indexOf('?');
  const pathPart = queryAt === -1 ? text : text.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : text.slice(queryAt + 1));
  const withoutOrigin = pathPart.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i, '');
  const segments = withoutOrigin.split('/').filter(Boolean);
  const [merchant, code] = segments.slice(-2);
  if (!merchant || !code) {
    throw badRequest('qr_data must look like <publicUrl>/qr/<merchant id>/<qr code> or <merchant id>/<qr code>.');
  }
  const dynamicText = query.get('dynamic');
  let dynamic: string | null = null;
  if (dynamicText !== null && dynamicText !== '') {
    try {
      dynamic = JSON.stringify(JSON.parse(dynamicText));
    } catch {
      throw badRequest('The dynamic part of qr_data is not JSON. URL-encode a JSON object, e.g. ?dynamic=%7B%22table%22%3A7%7D.');
    }
  }
  return { merchantId: decodeURIComponent(merchant), qrCode: decodeURIComponent(code), dynamic };
}
