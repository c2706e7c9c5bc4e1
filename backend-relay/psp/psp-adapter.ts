/**
 * One interface for every PSP: an adapter verifies a webhook and maps its verified content to
 * one relay event plus a route. Everything after that (routing, commit, delivery) is shared.
 */
import type { PspName, RelayEventData, RelayEventType } from '../../protocol/relay-protocol.js';

/** How to find the cab, taken only from verified content. */
export type HookRoute = { by: 'qrCode'; qrCode: string } | { by: 'merchantOrderId'; merchantOrderId: string };

export type MappedEvent = { [T in RelayEventType]: { type: T; data: RelayEventData<T> } }[RelayEventType];

export type HookVerdict =
  /** Unverifiable: nothing is stored, the caller answers 401. */
  | { verdict: 'unauthenticated'; message: string }
  /** Not the shape the hook needs: 400 with the message. */
  | { verdict: 'malformed'; message: string }
  | {
      verdict: 'verified';
      /** Unique per PSP; a retry with the same key is a duplicate. */
      dedupeKey: string;
      route: HookRoute;
      event: MappedEvent;
      /** A session start for a cab that cannot serve it is refused at once (Hips: 412). */
      needsLiveCab: boolean;
      /** Kept for reconciliation when the route leads nowhere; secrets already removed. */
      auditData: unknown;
    };

export interface WebhookEndpoint {
  /** For metrics and logs, e.g. 'qr' or 'order'. */
  kind: string;
  /** Mounted under the relay, e.g. /webhooks/hips/qr. */
  path: string;
  verify(body: unknown, now: Date): Promise<HookVerdict>;
  /** The body of the refusal when `needsLiveCab` and the cab is down (412). */
  downResponse?(text: string): unknown;
}

export interface PspAdapter {
  name: PspName;
  webhooks: WebhookEndpoint[];
}
