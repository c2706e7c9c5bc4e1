/**
 * Open-loop load: hooks are posted on a fixed schedule at the offered rate, whether or not
 * earlier ones have been answered (a PSP does not wait for us). Each send time is recorded
 * as an epoch timestamp with sub-ms precision, comparable with the tablets' receipt times.
 */
import http from 'node:http';
import type { PreparedHook } from './hooks.js';

/** Above this many unanswered requests the generator stops sending: the server is saturated. */
const MAX_IN_FLIGHT = 1_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface SentHook {
  key: string;
  cabId: string;
  sentAt: number;
  answeredAt: number;
  status: number;
  /** 2xx with {status:"stored"}: the relay committed it, so the tablet must receive it. */
  stored: boolean;
  seq?: number;
  error?: string;
}

export interface LoadResult {
  sent: SentHook[];
  offeredRate: number;
  /** From the first send to the last answer. */
  elapsedMs: number;
  /** Sends that left later than their slot by more than 100 ms (the generator fell behind). */
  lateSends: number;
}

const now = () => performance.timeOrigin + performance.now();

/**
 * One keep-alive pool per server for the whole run: connections opened in the warm-up are
 * reused, so a phase's first second does not pay for TCP set-up (a PSP keeps its pool too).
 */
const agents = new Map<string, http.Agent>();
function agentFor(origin: string): http.Agent {
  let agent = agents.get(origin);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    agents.set(origin, agent);
  }
  return agent;
}

/** Closes the pooled connections to a server that is going away. */
export function releaseAgent(baseUrl: string): void {
  const origin = new URL(baseUrl).origin;
  agents.get(origin)?.destroy();
  agents.delete(origin);
}

export async function offerLoad(baseUrl: string, hooks: PreparedHook[], rate: number): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const agent = agentFor(url.origin);
  const sent: SentHook[] = [];
  let inFlight = 0;
  let next = 0;
  let lateSends = 0;
  const start = now();

  await new Promise<void>((resolveAll) => {
    const maybeDone = () => {
      if (next >= hooks.length && inFlight === 0) resolveAll();
    };
    const fire = (hook: PreparedHook) => {
      inFlight++;
      const sentAt = now();
      const done = (status: number, body: string, error?: string) => {
        inFlight--;
        let stored = false;
        let seq: number | undefined;
        if (status >= 200 && status < 300) {
          try {
            const parsed = JSON.parse(body) as { status?: unknown; seq?: unknown };
            stored = parsed.status === 'stored';
            if (typeof parsed.seq === 'number') seq = parsed.seq;
          } catch {
            error = 'unreadable 2xx body';
          }
        }
        sent.push({ key: hook.key, cabId: hook.cabId, sentAt, answeredAt: now(), status, stored, seq, error });
        maybeDone();
      };
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: hook.path,
          method: 'POST',
          agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: { 'content-type': 'application/json', 'content-length': hook.body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          res.on('error', (err) => done(0, '', err.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer in time')));
      req.on('error', (err) => done(0, '', err.message));
      req.end(hook.body);
    };
    const tick = () => {
      const t = now();
      const due = Math.min(hooks.length, Math.floor(((t - start) * rate) / 1000) + 1);
      while (next < due && inFlight < MAX_IN_FLIGHT) {
        const slot = start + (next * 1000) / rate;
        if (t - slot > 100) lateSends++;
        fire(hooks[next++]!);
      }
      if (next < hooks.length) setTimeout(tick, 1);
      else maybeDone();
    };
    tick();
  });
  return { sent, offeredRate: rate, elapsedMs: now() - start, lateSends };
}
