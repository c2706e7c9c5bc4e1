import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchRenderer } from '../../electron/renderer-recovery.js';

function fakeWindow() {
  const contents = Object.assign(new EventEmitter(), {
    reloads: 0,
    crashes: 0,
    reload() {
      this.reloads++;
    },
    forcefullyCrashRenderer() {
      this.crashes++;
    },
  });
  const win = Object.assign(new EventEmitter(), {
    webContents: contents,
    destroyed: false,
    isDestroyed() {
      return this.destroyed;
    },
  });
  return { win, contents };
}

describe('renderer recovery', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reloads after a crash, backing off on repeated crashes', () => {
    const { win, contents } = fakeWindow();
    watchRenderer(win as never, { reloadDelayMs: 100 });
    contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    vi.advanceTimersByTime(100);
    expect(contents.reloads).toBe(1);
    contents.emit('render-process-gone', {}, { reason: 'oom', exitCode: 1 });
    vi.advanceTimersByTime(100);
    expect(contents.reloads).toBe(1);
    vi.advanceTimersByTime(100);
    expect(contents.reloads).toBe(2);
  });

  it('does not reload after a clean exit or once the window is gone', () => {
    const { win, contents } = fakeWindow();
    watchRenderer(win as never, { reloadDelayMs: 100 });
    contents.emit('render-process-gone', {}, { reason: 'clean-exit', exitCode: 0 });
    contents.emit('render-process-gone', {}, { reason: 'killed', exitCode: 9 });
    win.destroyed = true;
    vi.advanceTimersByTime(10_000);
    expect(contents.reloads).toBe(0);
  });

  it('retries a main-frame load failure but ignores aborted or subframe loads', () => {
    const { win, contents } = fakeWindow();
    watchRenderer(win as never, { reloadDelayMs: 100 });
    contents.emit('did-fail-load', {}, -3, 'ERR_ABORTED', 'app://cabpay/index.html', true);
    contents.emit('did-fail-load', {}, -6, 'ERR_FILE_NOT_FOUND', 'app://cabpay/x.html', false);
    vi.advanceTimersByTime(1_000);
    expect(contents.reloads).toBe(0);
    contents.emit('did-fail-load', {}, -102, 'ERR_CONNECTION_REFUSED', 'http://localhost:5173/', true);
    vi.advanceTimersByTime(100);
    expect(contents.reloads).toBe(1);
  });

  it('kills a renderer that stays hung past the grace period, not one that recovers', () => {
    const { win, contents } = fakeWindow();
    watchRenderer(win as never, { hangGraceMs: 1_000 });
    win.emit('unresponsive');
    vi.advanceTimersByTime(500);
    win.emit('responsive');
    vi.advanceTimersByTime(5_000);
    expect(contents.crashes).toBe(0);
    win.emit('unresponsive');
    vi.advanceTimersByTime(1_000);
    expect(contents.crashes).toBe(1);
  });
});
