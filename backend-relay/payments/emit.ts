/** Appends one relay event to a cab's log (deduped per PSP) and hands it to the delivery hub. */
import { v7 as uuidv7 } from 'uuid';
import type { PspName } from '../../protocol/relay-protocol.js';
import type { DeliveryHub } from '../delivery.js';
import type { MappedEvent } from '../psp/psp-adapter.js';
import type { RelayStore } from '../store/relay-store.js';

export type EmitEvent = (cabId: string, psp: PspName, dedupeKey: string, event: MappedEvent) => Promise<'stored' | 'duplicate'>;

export function eventEmitter(store: RelayStore, hub: DeliveryHub): EmitEvent {
  return async (cabId, psp, dedupeKey, event) => {
    const result = await store.appendEvent(
      { id: uuidv7(), cabId, psp, dedupeKey, type: event.type, occurredAt: new Date().toISOString(), data: event.data },
      Date.now(),
    );
    if (result.status === 'stored') hub.notify(cabId, result.event);
    return result.status;
  };
}
