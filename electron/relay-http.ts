/**
 * Small HTTP(S) requests from the main process to the relay (release signatures, refusal
 * reports), with the same pinned TLS options as the relay socket (core/relay-link.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type { RelayTlsOptions } from './core/relay-link.js';

/** Signature files are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;
const TIMEOUT_MS = 30_000;

export interface RelayResponse {
  status: number;
  body: Buffer;
}

export function relayRequest(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; json?: unknown; tls?: RelayTlsOptions },
): Promise<RelayResponse> {
  const target = new URL(url);
  const body = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  const headers = { ...options.headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) };
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? https : http).request(
      target,
      { method: options.method ?? 'GET', headers, timeout: TIMEOUT_MS, ...(target.protocol === 'https:' ? options.tls : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) request.destroy(new Error(`the relay's answer to ${target.pathname} is larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`the relay did not answer ${target.pathname} within ${TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
