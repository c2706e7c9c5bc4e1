/**
 * A loopback TCP proxy the harness can cut and restore: the tablet's network. Cutting drops
 * every open connection and refuses new ones, as a tunnel does; restoring lets them through.
 */
import net from 'node:net';

export class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  url = '';

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on an ephemeral loopback port in front of `targetUrl` (http://host:port). */
  static async start(targetUrl: string): Promise<CuttableProxy> {
    const u = new URL(targetUrl);
    const proxy = new CuttableProxy({ host: u.hostname, port: Number(u.port) });
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', () => r()));
    const address = proxy.server.address() as net.AddressInfo;
    proxy.url = `http://127.0.0.1:${address.port}`;
    return proxy;
  }

  get isCut(): boolean {
    return this.cut;
  }

  private accept(client: net.Socket): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** The tablet goes offline: every connection through here breaks now. */
  cutOff(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cut = false;
  }

  close(): Promise<void> {
    this.cutOff();
    return new Promise((r) => this.server.close(() => r()));
  }
}
