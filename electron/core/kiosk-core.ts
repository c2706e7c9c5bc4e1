/** The kiosk core's public face: what the Electron shell and the preview host both drive. */
import type { KioskCommand, KioskSnapshot } from '../../protocol/kiosk-api.js';
import type { Result } from '../../protocol/result.js';

export interface KioskCore {
  /** Opens the store, rebuilds state from it, connects to the relay and starts the outbox. */
  start(): Promise<void>;
  /** Stops timers and sockets and closes the store. Safe to call twice. */
  stop(): Promise<void>;
  /** Validates and runs one driver command; state changes arrive through onState. */
  execute(command: KioskCommand): Promise<Result<null>>;
  getState(): KioskSnapshot;
  /** Calls the listener after every state change; returns the unsubscribe function. */
  onState(listener: (snapshot: KioskSnapshot) => void): () => void;
}
