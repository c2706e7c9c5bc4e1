/**
 * electron-updater's HTTP executor for plain Node: builder-util's NodeHttpExecutor for requests,
 * plus the `download` method ElectronHttpExecutor adds (same body, without Electron's net).
 */
import { NodeHttpExecutor } from 'builder-util/out/nodeHttpExecutor.js';
import { configureRequestOptions, configureRequestUrl, type DownloadOptions } from 'builder-util-runtime';
import type { RelayTlsOptions } from '../../electron/core/relay-link.js';

export class NodeUpdaterExecutor extends NodeHttpExecutor {
  /** URLs of every file download, so tests can see what was (not) fetched again. */
  readonly downloads: string[] = [];

  /** The relay's pins, as the kiosk applies them to every relay link (Electron: updater-tls.ts). */
  constructor(private readonly tls: RelayTlsOptions = {}) {
    super();
  }

  override createRequest(options: any, callback: (response: any) => void): any {
    return super.createRequest(options.protocol === 'https:' ? { ...options, ...this.tls } : options, callback);
  }

  download(url: URL, destination: string, options: DownloadOptions): Promise<string> {
    this.downloads.push(url.href);
    return options.cancellationToken.createPromise((resolve, reject, onCancel) => {
      const requestOptions: any = { headers: options.headers || undefined };
      configureRequestUrl(url, requestOptions);
      configureRequestOptions(requestOptions);
      (this as any).doDownload(
        requestOptions,
        { destination, options, onCancel, callback: (error: Error | null) => (error == null ? resolve(destination) : reject(error)), responseHandler: null },
        0,
      );
    });
  }
}
