/**
 * The command half of `window.cabpay`, built over any transport that carries one KioskCommand
 * (Electron IPC in the preload, the preview's WebSocket). Type-only imports: no zod in the
 * preload bundle.
 */
import type { CabpayApi, CommandResult, KioskCommand } from './kiosk-api.js';

export type KioskCommandMethods = Omit<CabpayApi, 'getState' | 'onState'>;

export function commandMethods(send: (command: KioskCommand) => CommandResult): KioskCommandMethods {
  return {
    startRide: () => send({ name: 'startRide' }),
    setFare: (amountMinor) => send({ name: 'setFare', amountMinor }),
    addExtra: (extra) => send({ name: 'addExtra', extra }),
    removeExtra: (lineId) => send({ name: 'removeExtra', lineId }),
    endRide: () => send({ name: 'endRide' }),
    cancelRide: () => send({ name: 'cancelRide' }),
    dismiss: () => send({ name: 'dismiss' }),
    markPaidOtherwise: (rideId) => send(rideId === undefined ? { name: 'markPaidOtherwise' } : { name: 'markPaidOtherwise', rideId }),
    markRideSeen: (rideId) => send({ name: 'markRideSeen', rideId }),
    setLocale: (locale) => send({ name: 'setLocale', locale }),
    setTheme: (theme) => send({ name: 'setTheme', theme }),
    unlockSettings: (pin) => send({ name: 'unlockSettings', pin }),
    lockSettings: () => send({ name: 'lockSettings' }),
    saveDriverSettings: (settings) => send({ name: 'saveDriverSettings', settings }),
    chooseTip: (tipAmountMinor) => send({ name: 'chooseTip', tipAmountMinor }),
    retryPayment: () => send({ name: 'retryPayment' }),
    refundRide: (rideId, amountMinor, reason) =>
      send(reason === undefined ? { name: 'refundRide', rideId, amountMinor } : { name: 'refundRide', rideId, amountMinor, reason }),
  };
}
