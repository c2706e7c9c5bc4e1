import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { claimSingleInstance } from '../../electron/single-instance.js';

function fakeApp(gotLock: boolean) {
  return Object.assign(new EventEmitter(), { requestSingleInstanceLock: () => gotLock });
}

describe('single instance', () => {
  it('reports a lost lock so the second instance quits', () => {
    expect(claimSingleInstance(fakeApp(false) as never, () => null)).toBe(false);
  });

  it('restores and focuses the window when a second instance starts', () => {
    const app = fakeApp(true);
    const calls: string[] = [];
    const win = {
      isDestroyed: () => false,
      isMinimized: () => true,
      restore: () => calls.push('restore'),
      show: () => calls.push('show'),
      focus: () => calls.push('focus'),
    };
    expect(claimSingleInstance(app as never, () => win as never)).toBe(true);
    app.emit('second-instance');
    expect(calls).toEqual(['restore', 'show', 'focus']);
  });
});
