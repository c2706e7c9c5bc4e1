/** What the console holds: the session and the fleet as the live feed last told it. */
import { create } from 'zustand';
import type { Cab, SessionInfo } from './api';

export type LiveState = 'connecting' | 'live' | 'offline';

interface ConsoleState {
  /** undefined: not asked yet; null: logged out. */
  session: SessionInfo | null | undefined;
  /** Why the operator was sent back to the login page, shown there. */
  loggedOutMessage: string | null;
  cabs: Map<string, Cab>;
  live: LiveState;
  setSession(session: SessionInfo | null, message?: string | null): void;
  setCabs(cabs: Cab[]): void;
  putCab(cab: Cab): void;
  removeCab(cabId: string): void;
  setLive(live: LiveState): void;
}

export const useConsole = create<ConsoleState>((set) => ({
  session: undefined,
  loggedOutMessage: null,
  cabs: new Map(),
  live: 'connecting',
  setSession: (session, message = null) => set({ session, loggedOutMessage: message }),
  setCabs: (cabs) => set({ cabs: new Map(cabs.map((c) => [c.cabId, c])) }),
  putCab: (cab) => set((s) => ({ cabs: new Map(s.cabs).set(cab.cabId, cab) })),
  removeCab: (cabId) =>
    set((s) => {
      const cabs = new Map(s.cabs);
      cabs.delete(cabId);
      return { cabs };
    }),
  setLive: (live) => set({ live }),
}));
