/**
 * The driver PIN's lockout grows with every wrong PIN after the fifth (1 min, 5 min, 15 min,
 * then 1 h each), survives a restart, tells the driver how long is left, and ends by itself.
 * The clock is the real one plus an offset the test moves, so timers still run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKioskCore } from '../../electron/core/index.js';
import type { KioskCore } from '../../electron/core/kiosk-core.js';
import { afterAttempt, describeWait, hashPin, PIN_MAX_FAILURES, type PinAttemptState } from '../../electron/core/pin.js';
import { quietLogger, testConfig, waitForState } from './helpers.js';

const PIN = '2468';
const WRONG = '1357';
const MINUTE = 60_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('driver PIN lockout', () => {
  it('locks for 1, 5, 15 minutes and then an hour per wrong PIN; a right PIN starts over', () => {
    const now = new Date('2026-11-21T12:00:00.000Z');
    let state: PinAttemptState = { failures: 0, lockedUntil: null };
    const locks: number[] = [];
    for (let i = 0; i < PIN_MAX_FAILURES + 5; i++) {
      state = afterAttempt(state, false, now);
      locks.push(state.lockedUntil ? (Date.parse(state.lockedUntil) - now.getTime()) / MINUTE : 0);
    }
    expect(locks).toEqual([0, 0, 0, 0, 1, 5, 15, 60, 60, 60]);
    expect(afterAttempt(state, true, now)).toEqual({ failures: 0, lockedUntil: null });
    // Trying every 4-digit PIN, each as soon as the lock allows, now takes more than a year (33 hours before).
    let at = now.getTime();
    let guesser: PinAttemptState = { failures: 0, lockedUntil: null };
    for (let pin = 0; pin < 10_000; pin++) {
      guesser = afterAttempt(guesser, false, new Date(at));
      if (guesser.lockedUntil) at = Date.parse(guesser.lockedUntil);
    }
    expect((at - now.getTime()) / (365 * 24 * 60 * MINUTE)).toBeGreaterThan(1);
    expect([describeWait(45_000), describeWait(5 * MINUTE), describeWait(4 * MINUTE + 1), describeWait(70 * MINUTE)]).toEqual([
      '45 seconds',
      '5 minutes',
      '5 minutes',
      '1 hour 10 minutes',
    ]);
  });

  it('escalates through restarts, says how long is left, and lifts the lock on its own when it ends', async () => {
    let offsetMs = 0;
    const now = () => new Date(Date.now() + offsetMs);
    const config = testConfig({ relayUrl: 'http://127.0.0.1:9', pspUrl: 'http://127.0.0.1:9' });
    let core: KioskCore | null = null;
    const start = async () => {
      const started = createKioskCore(config, { logger: quietLogger, now, driver: { driverPinHash: hashPin(PIN) } });
      await started.start();
      core = started;
      return started;
    };
    cleanups.push(async () => core?.stop());
    const unlock = (pin: string) => core!.execute({ name: 'unlockSettings', pin });
    /** Moves the clock to just before the lock ends and restarts: a reboot is no free retry. */
    const restartNearEnd = async (leftMs: number) => {
      const until = Date.parse(core!.getState().driver.lockedUntil!);
      await core!.stop();
      offsetMs += until - now().getTime() - leftMs;
      return start();
    };

    await start();
    for (let i = 1; i < PIN_MAX_FAILURES; i++) expect(await unlock(WRONG)).toMatchObject({ ok: false, error: { code: 'pin_wrong' } });
    const first = await unlock(WRONG);
    expect(first).toMatchObject({ ok: false, error: { code: 'pin_locked_out', message: expect.stringContaining('locked for 1 minute') } });
    expect(core!.getState().driver).toMatchObject({ settings: 'locked_out' });
    // Locked even for the right PIN, with the time left in the answer.
    expect(await unlock(PIN)).toMatchObject({ ok: false, error: { code: 'pin_locked_out', message: expect.stringMatching(/Try again in (59|60) seconds/) } });

    for (const [left, nextLock] of [
      [1_000, '5 minutes'],
      [30_000, '15 minutes'],
      [1_000, '1 hour'],
      [1_000, '1 hour'],
    ] as const) {
      const restarted = await restartNearEnd(left);
      // Still locked after the restart, until the end it had before.
      expect(restarted.getState().driver.settings).toBe('locked_out');
      expect(await unlock(PIN)).toMatchObject({ ok: false, error: { code: 'pin_locked_out' } });
      if (left > 1_000) {
        offsetMs += left;
        expect(await unlock(WRONG)).toMatchObject({ ok: false, error: { message: expect.stringContaining(`locked for ${nextLock}`) } });
        continue;
      }
      // The lock ends by itself: the snapshot says so without any command.
      await waitForState(restarted, (s) => s.driver.settings === 'locked', 5_000, 'the lock lifted when it ended');
      expect(await unlock(WRONG)).toMatchObject({ ok: false, error: { code: 'pin_locked_out', message: expect.stringContaining(`locked for ${nextLock}`) } });
    }

    await restartNearEnd(1_000);
    await waitForState(core!, (s) => s.driver.settings === 'locked', 5_000, 'the last lock lifted');
    expect(await unlock(PIN)).toEqual({ ok: true, value: null });
    expect(core!.getState().driver).toMatchObject({ settings: 'unlocked', lockedUntil: null });
    // The right PIN starts the count over: a slip now is just a wrong PIN.
    await core!.execute({ name: 'lockSettings' });
    expect(await unlock(WRONG)).toMatchObject({ ok: false, error: { code: 'pin_wrong' } });
  });
});
