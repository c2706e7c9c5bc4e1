/**
 * The bench's own "Hips": an RS256 key (jose) whose public half the relay trusts through
 * HIPS_PUBLIC_KEY_FILE, and pools of signed webhooks prepared before a phase starts, so the
 * signing cost is never attributed to the relay.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { HIPS_ISSUER, type HipsOrderHookData, type HipsQrHookData } from '../protocol/hips.js';

/** Long enough for the longest full run; the relay tolerates no more than exp + 300 s. */
const TOKEN_LIFETIME_S = 3 * 3600;
const SIGN_CONCURRENCY = 64;

export const QR_HOOK_PATH = '/webhooks/hips/qr';
export const ORDER_HOOK_PATH = '/webhooks/hips/orders';

/** The QR code each bench cab registers; the baseline relay routes by the same convention. */
export const qrCodeOf = (cabId: string) => `qr-${cabId}`;

export interface PreparedHook {
  path: typeof QR_HOOK_PATH | typeof ORDER_HOOK_PATH;
  /** The JSON body, serialised once. */
  body: Buffer;
  /** What the tablet sees in the event: the sessionId or the merchantOrderId. */
  key: string;
  cabId: string;
}

export interface BenchSigner {
  privateKey: CryptoKey;
  publicKeyFile: string;
}

export async function createSigner(dir: string): Promise<BenchSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicKeyFile = path.join(dir, 'bench-hips-public.pem');
  writeFileSync(publicKeyFile, await exportSPKI(publicKey));
  return { privateKey, publicKeyFile };
}

/** Hooks in a fixed rhythm: a scan (start_qr_session) then its payment, cab after cab. */
export class HookFactory {
  private serial = 0;
  private readonly runTag = Date.now().toString(36);

  constructor(
    private readonly signer: BenchSigner,
    private readonly cabIds: string[],
  ) {}

  /** `count` hooks alternating scan / payment, spread round-robin over the cabs. */
  async mixed(count: number): Promise<PreparedHook[]> {
    const specs = Array.from({ length: count }, (_, i) => {
      const n = this.serial++;
      const cabId = this.cabIds[Math.floor(n / 2) % this.cabIds.length]!;
      return i % 2 === 0 ? this.scan(cabId, n) : this.payment(cabId, n);
    });
    return this.signAll(specs);
  }

  /** `count` payments (order.paid) only, round-robin over the cabs: they need no live cab. */
  async payments(count: number): Promise<PreparedHook[]> {
    const specs = Array.from({ length: count }, (_, i) => this.payment(this.cabIds[i % this.cabIds.length]!, this.serial++));
    return this.signAll(specs);
  }

  /** One scan per cab (the reconnect storm's queued backlog). */
  async onePerCab(): Promise<PreparedHook[]> {
    return this.signAll(this.cabIds.map((cabId) => this.scan(cabId, this.serial++)));
  }

  private scan(cabId: string, n: number): { spec: Omit<PreparedHook, 'body'>; data: HipsQrHookData } {
    const sessionId = `bench-${this.runTag}-s${n}`;
    const data: HipsQrHookData = {
      request_type: 'start_qr_session',
      session_id: sessionId,
      one_time_order_api_key: `otk-${this.runTag}-${n}-0123456789abcdef`,
      idempotency_key: `bench-${this.runTag}-i${n}`,
      qr_id: `qrid-${cabId}`,
      sales_channel_id: 'bench',
      qr_code: qrCodeOf(cabId),
      allow_tip: true,
      execute_at: new Date().toISOString(),
      order_timeout_seconds: 600,
      payment_timeout_seconds: 300,
    };
    return { spec: { path: QR_HOOK_PATH, key: sessionId, cabId }, data };
  }

  private payment(cabId: string, n: number): { spec: Omit<PreparedHook, 'body'>; data: HipsOrderHookData } {
    const merchantOrderId = `${cabId}.ride-${this.runTag}-${n}`;
    const data: HipsOrderHookData = {
      event: 'payment.successful',
      idempotency_key: `bench-${this.runTag}-o${n}`,
      resource: {
        id: `pay-${this.runTag}-${n}`,
        type: 'payment',
        order_id: `order-${this.runTag}-${n}`,
        merchant_order_id: merchantOrderId,
        status: 'successful',
        currency: 'SEK',
        amount: 27_600,
        tip_amount: 4_600,
        order_amount: 23_000,
        order_status: 'successful',
      },
    };
    return { spec: { path: ORDER_HOOK_PATH, key: merchantOrderId, cabId }, data };
  }

  private async signAll(items: { spec: Omit<PreparedHook, 'body'>; data: object }[]): Promise<PreparedHook[]> {
    const out: PreparedHook[] = new Array(items.length);
    let next = 0;
    const lane = async () => {
      while (next < items.length) {
        const i = next++;
        const { spec, data } = items[i]!;
        const jwt = await signHook(this.signer.privateKey, data);
        out[i] = { ...spec, body: Buffer.from(JSON.stringify({ ...data, jwt })) };
      }
    };
    await Promise.all(Array.from({ length: SIGN_CONCURRENCY }, lane));
    return out;
  }
}

export function signHook(privateKey: CryptoKey, data: object): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ data: data as Record<string, unknown> })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(HIPS_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_LIFETIME_S)
    .sign(privateKey);
}
