/**
 * The main-process end of `window.cabpay`: two invoke channels and one push channel. Every
 * handler first checks that the caller is the app's own top frame, then validates the
 * arguments, and always answers with a Result, so the renderer never sees a thrown error.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents, type WebFrameMain } from 'electron';
import type { Logger } from 'pino';
import type { KioskCore } from './core/kiosk-core.js';
import { kioskCommand, type KioskSnapshot } from '../protocol/kiosk-api.js';
import { fail, ok, type Result } from '../protocol/result.js';
import { isAppUrl, type AppLocation } from './app-origin.js';
import { IPC_COMMAND, IPC_GET_STATE, IPC_STATE } from './ipc-channels.js';
import { zodIssuesText } from '../protocol/zod-issues.js';

export interface IpcOptions {
  core: KioskCore;
  location: AppLocation;
  /** The renderers that receive state pushes (the main window's webContents). */
  targets: () => WebContents[];
  log?: Logger;
}

/** Only the app's own top-level page may drive the kiosk; iframes and foreign pages may not. */
export function isTrustedSender(frame: WebFrameMain | null | undefined, location: AppLocation): boolean {
  if (!frame) return false; // the frame navigated away or was destroyed
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url, location);
}

export async function handleCommand(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, arg: unknown, opts: IpcOptions): Promise<Result<null>> {
  if (!isTrustedSender(event.senderFrame, opts.location)) {
    opts.log?.warn({ url: event.senderFrame?.url }, 'IPC command from a foreign frame refused');
    return fail('forbidden', 'Only the kiosk page itself may send commands.');
  }
  const parsed = kioskCommand.safeParse(arg);
  if (!parsed.success) {
    const problems = zodIssuesText(parsed.error);
    return fail('bad_request', `Invalid kiosk command: ${problems}.`);
  }
  try {
    return await opts.core.execute(parsed.data);
  } catch (err) {
    opts.log?.error({ err, command: parsed.data.name }, 'kiosk core threw');
    return fail('internal', `The kiosk core failed on ${parsed.data.name}: ${(err as Error).message}`);
  }
}

export function handleGetState(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, opts: IpcOptions): Result<KioskSnapshot> {
  if (!isTrustedSender(event.senderFrame, opts.location)) {
    opts.log?.warn({ url: event.senderFrame?.url }, 'IPC getState from a foreign frame refused');
    return fail('forbidden', 'Only the kiosk page itself may read the kiosk state.');
  }
  return ok(opts.core.getState());
}

/** Registers the handlers and the state push; returns the function that removes them. */
export function registerIpc(opts: IpcOptions): () => void {
  ipcMain.handle(IPC_COMMAND, (event, arg: unknown) => handleCommand(event, arg, opts));
  ipcMain.handle(IPC_GET_STATE, (event) => handleGetState(event, opts));
  const unsubscribe = opts.core.onState((snapshot) => {
    for (const contents of opts.targets()) {
      // Only to our own page: a renderer that crashed or navigated away gets nothing.
      if (!contents.isDestroyed() && isAppUrl(contents.getURL(), opts.location)) contents.send(IPC_STATE, snapshot);
    }
  });
  return () => {
    unsubscribe();
    ipcMain.removeHandler(IPC_COMMAND);
    ipcMain.removeHandler(IPC_GET_STATE);
  };
}
