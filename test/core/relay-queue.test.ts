import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RelayQueue, type QueueStep } from '../../electron/core/relay-queue.js';

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

function harness(answers: Record<string, QueueStep[]>) {
  const pending = Object.keys(answers);
  const sent: string[] = [];
  const lines: { level: number; msg: string; retryInMs?: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  let connected = true;
  const queue = new RelayQueue<string>({
    what: 'test sending',
    connected: () => connected,
    next: () => pending[0],
    send: async (item) => {
      sent.push(item);
      const step = answers[item]!.shift() ?? { kind: 'sent' };
      if (step.kind === 'sent' || step.kind === 'refused') pending.shift();
      return step;
    },
    random: () => 0,
    logger,
  });
  return { queue, sent, lines, pending, setConnected: (c: boolean) => (connected = c) };
}

describe('RelayQueue', () => {
  it('sends oldest first, waits with backoff after a transient failure, and moves on past a refusal', async () => {
    const h = harness({ a: [{ kind: 'retry', log: { item: 'a' }, message: 'not yet' }, { kind: 'sent' }], b: [{ kind: 'refused' }], c: [{ kind: 'sent' }] });
    h.queue.kick();
    await until(() => h.pending.length === 0, 'the queue to drain');
    expect(h.sent).toEqual(['a', 'a', 'b', 'c']);
    expect(h.lines.find((l) => l.msg === 'not yet')).toMatchObject({ level: 40, retryInMs: 0 });
    h.queue.stop();
  });

  it('sends nothing while the relay is away, and everything on the kick after it is back', async () => {
    const h = harness({ a: [], b: [] });
    h.setConnected(false);
    h.queue.kick();
    await new Promise((r) => setImmediate(r));
    expect(h.sent).toEqual([]);
    h.setConnected(true);
    h.queue.kick();
    await until(() => h.pending.length === 0, 'the queue to drain');
    expect(h.sent).toEqual(['a', 'b']);
  });

  it('logs an unexpected error and resumes on the next kick', async () => {
    let fail = true;
    const pending = ['a'];
    const lines: { level: number; msg: string }[] = [];
    const queue = new RelayQueue<string>({
      what: 'test sending',
      connected: () => true,
      next: () => pending[0],
      send: async () => {
        if (fail) throw new Error('boom');
        pending.shift();
        return { kind: 'sent' };
      },
      random: () => 0,
      logger: pino({}, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    queue.kick();
    await until(() => lines.some((l) => l.level === 50), 'the error line');
    expect(lines.find((l) => l.level === 50)!.msg).toBe('test sending stopped on an unexpected error; it resumes on the next change');
    fail = false;
    queue.kick();
    await until(() => pending.length === 0, 'the resend');
  });
});
