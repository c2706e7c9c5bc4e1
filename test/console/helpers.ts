/** A console operator over HTTP as the browser is one: the session cookie, the CSRF token and the console's Origin. */
import { io as ioClient, type Socket } from 'socket.io-client';
import { ADMIN_TOKEN, admin } from '../relay/helpers.js';

export interface ConsoleAnswer {
  status: number;
  body: any;
}

export class ConsoleClient {
  cookie = '';
  csrfToken = '';

  constructor(
    readonly url: string,
    /** What the browser would send as Origin; the console's own by default. */
    public origin: string | null = url,
  ) {}

  async call(method: string, route: string, body?: unknown, extra: { csrf?: string | null; origin?: string | null } = {}): Promise<ConsoleAnswer> {
    const origin = extra.origin === undefined ? this.origin : extra.origin;
    const csrf = extra.csrf === undefined ? this.csrfToken : extra.csrf;
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(origin ? { origin } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      if (pair?.startsWith('cabpay_console=')) this.cookie = pair.endsWith('=') ? '' : pair;
    }
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: kept as text */
    }
    return { status: res.status, body: parsed };
  }

  async login(name: string, password: string): Promise<ConsoleAnswer> {
    const res = await this.call('POST', '/console/api/login', { name, password });
    if (res.status === 200) this.csrfToken = res.body.csrfToken as string;
    return res;
  }

  /** Logs in with the one-time password and sets `password`; throws when either step fails. */
  async firstLogin(name: string, oneTime: string, password: string): Promise<void> {
    const login = await this.login(name, oneTime);
    if (login.status !== 200) throw new Error(`login ${name}: ${login.status} ${JSON.stringify(login.body)}`);
    const changed = await this.call('POST', '/console/api/password', { current: oneTime, next: password });
    if (changed.status !== 200) throw new Error(`password change ${name}: ${changed.status} ${JSON.stringify(changed.body)}`);
  }

  /** The live fleet namespace with this client's cookie and Origin. */
  live(): Socket {
    return ioClient(`${this.url}/operators`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(this.origin ? { origin: this.origin } : {}) },
    });
  }
}

/** Adds an operator over the admin API; returns the one-time password. */
export async function addOperator(url: string, name: string, role: 'admin' | 'operator' | 'viewer'): Promise<string> {
  const res = await admin(url, 'POST', '/admin/operators', { name, role }, ADMIN_TOKEN);
  if (res.status !== 201) throw new Error(`add operator ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.oneTimePassword as string;
}

/** Resolves when `check` holds, checked after each event of `socket`'s namespace. */
export function whenLive<T>(socket: Socket, event: string, check: (payload: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onEvent = (payload: T) => {
      if (!check(payload)) return;
      socket.off(event, onEvent);
      resolve(payload);
    };
    socket.on(event, onEvent);
    socket.once('connect_error', (err) => reject(err));
  });
}
