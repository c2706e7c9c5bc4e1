/** What the payment flows need, and the one way they change state: commit, then send hooks. */
import type { Logger } from 'pino';
import type { DeadlineTimers } from './deadline-timers.js';
import type { SandboxConfig } from './sandbox-config.js';
import type { SandboxStore, WebhookRow } from './store.js';
import type { AttemptOutcome, WebhookDeliverer } from './webhook-delivery.js';

export interface FlowDeps {
  store: SandboxStore;
  deliverer: WebhookDeliverer;
  timers: DeadlineTimers;
  config: SandboxConfig;
  log: Logger;
}

/**
 * Runs `change` in one transaction; the hooks it emits are inserted in that same transaction
 * and handed to the deliverer only after the commit. Returns the first attempts' outcomes.
 */
export function commitThenDeliver<T>(deps: FlowDeps, change: (emit: (hook: WebhookRow) => void) => T): { result: T; sent: Promise<AttemptOutcome[]> } {
  const hooks: WebhookRow[] = [];
  const result = deps.store.transaction(() =>
    change((hook) => {
      deps.store.insertWebhook(hook);
      hooks.push(hook);
    }),
  );
  return { result, sent: Promise.all(hooks.map((hook) => deps.deliverer.deliver(hook.id))) };
}
