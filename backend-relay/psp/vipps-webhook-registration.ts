/**
 * The relay's one Vipps webhook (Webhooks API): registered for `<public URL>/webhooks/vipps`
 * with the check-in and ePayment events, its id and secret kept in the relay's meta table so a
 * restart reuses it. Vipps shows the secret only once, at registration; a registration for our
 * URL whose secret we no longer hold is deleted, because its hooks could never be verified.
 */
import { z } from 'zod';
import type { VippsClient } from '../payments/vipps-client.js';
import { describeProblem } from '../payments/vipps-client.js';
import { VIPPS_WEBHOOK_EVENTS } from './vipps-events.js';

export const VIPPS_WEBHOOK_META_KEY = 'vipps.webhook';

const storedWebhook = z.object({ url: z.string(), id: z.string().min(1), secret: z.string().min(1) });
export type StoredVippsWebhook = z.infer<typeof storedWebhook>;

const listAnswer = z.object({
  webhooks: z.array(z.object({ id: z.string(), url: z.string(), events: z.array(z.string()) })),
});
const registerAnswer = z.object({ id: z.string().min(1), secret: z.string().min(1) });

export interface MetaStore {
  get(key: string): Promise<string | null> | string | null;
  set(key: string, value: string): Promise<void> | void;
}

export class VippsWebhookError extends Error {
  override name = 'VippsWebhookError';
}

/** The registration to use for `url`: the stored one when Vipps still lists it, else a new one. */
export async function ensureVippsWebhook(
  client: VippsClient,
  meta: MetaStore,
  url: string,
): Promise<{ webhook: StoredVippsWebhook; reused: boolean; deleted: string[] }> {
  const stored = parseStored(await meta.get(VIPPS_WEBHOOK_META_KEY));
  const listed = await client.call('GET', '/webhooks/v1/webhooks');
  if (listed.kind !== 'answered' || listed.status !== 200) throw failure('list the registered webhooks', listed);
  const list = listAnswer.safeParse(listed.body);
  if (!list.success) throw new VippsWebhookError('the Vipps webhook list is not {webhooks: [{id, url, events}]}');

  const mine = stored && stored.url === url ? list.data.webhooks.find((w) => w.id === stored.id && w.url === url) : undefined;
  if (stored && mine && VIPPS_WEBHOOK_EVENTS.every((e) => mine.events.includes(e))) {
    return { webhook: stored, reused: true, deleted: [] };
  }
  // Ours but stale (other URL, fewer events), or for our URL with a secret we do not hold.
  const stale = list.data.webhooks.filter((w) => w.url === url || (stored !== null && w.id === stored.id));
  const deleted: string[] = [];
  for (const w of stale) {
    const answer = await client.call('DELETE', `/webhooks/v1/webhooks/${encodeURIComponent(w.id)}`);
    if (answer.kind === 'answered' && ((answer.status >= 200 && answer.status < 300) || answer.status === 404)) deleted.push(w.id);
    else throw failure(`delete the stale webhook ${w.id}`, answer);
  }
  const created = await client.call('POST', '/webhooks/v1/webhooks', { body: { url, events: [...VIPPS_WEBHOOK_EVENTS] } });
  if (created.kind !== 'answered' || created.status < 200 || created.status >= 300) throw failure(`register the webhook ${url}`, created);
  const answer = registerAnswer.safeParse(created.body);
  if (!answer.success) throw new VippsWebhookError('the Vipps webhook registration answer has no id and secret');
  const webhook = { url, id: answer.data.id, secret: answer.data.secret };
  // Stored before it is used: a crash right after must not lose the only copy of the secret.
  await meta.set(VIPPS_WEBHOOK_META_KEY, JSON.stringify(webhook));
  return { webhook, reused: false, deleted };
}

/** The stored registration for `url`, without asking Vipps (what a restart trusts until start() checks). */
export async function storedVippsWebhook(meta: MetaStore): Promise<StoredVippsWebhook | null> {
  return parseStored(await meta.get(VIPPS_WEBHOOK_META_KEY));
}

function parseStored(text: string | null): StoredVippsWebhook | null {
  if (!text) return null;
  try {
    const parsed = storedWebhook.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function failure(what: string, answer: Awaited<ReturnType<VippsClient['call']>>): VippsWebhookError {
  if (answer.kind === 'answered') return new VippsWebhookError(`could not ${what}: Vipps answered ${answer.status} (${describeProblem(answer.body)})`);
  return new VippsWebhookError(`could not ${what}: ${answer.reason}`);
}
