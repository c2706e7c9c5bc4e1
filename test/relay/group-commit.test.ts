/** Group commit: one transaction per event-loop turn, each write still atomic and durable when it resolves. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GroupCommit, MAX_BATCH_WRITES } from '../../backend-relay/store/group-commit.js';
import { LAZY_FLUSH_MS } from '../../backend-relay/store/store-writer-protocol.js';

function openDb() {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cabpay-gc-')), 'g.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  // A second connection sees only committed rows.
  return { db, reader: new Database(file, { readonly: true }) };
}

describe('GroupCommit', () => {
  it('commits the writes of one turn together, and each promise settles only after the commit', async () => {
    const { db, reader } = openDb();
    const group = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const seenByReaderAtResolve: number[] = [];
    const writes = Array.from({ length: 50 }, (_, i) =>
      group
        .enqueue(async () => insert.run(`k${i}`, i).changes)
        .then((changes) => {
          seenByReaderAtResolve.push((reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n);
          return changes;
        }),
    );
    expect((reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(0);
    expect(await Promise.all(writes)).toEqual(Array(50).fill(1));
    expect(group.stats).toMatchObject({ commits: 1, writes: 50 });
    expect(new Set(seenByReaderAtResolve)).toEqual(new Set([50]));
  });

  it('commits a full batch without waiting for the check phase, so a flood of I/O cannot hold every write back', async () => {
    const { db, reader } = openDb();
    const group = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    const writes = Array.from({ length: MAX_BATCH_WRITES + 10 }, (_, i) => group.enqueue(async () => insert.run(`k${i}`, i).changes));
    await Promise.resolve(); // one microtask checkpoint: no setImmediate has run yet
    expect(count()).toBe(MAX_BATCH_WRITES + 10);
    expect(group.stats).toMatchObject({ commits: 1, writes: MAX_BATCH_WRITES + 10 });
    // A write below the cap still waits for its turn to end.
    const late = group.enqueue(async () => insert.run('late', 0).changes);
    await Promise.resolve();
    expect(count()).toBe(MAX_BATCH_WRITES + 10);
    expect(await late).toBe(1);
    expect(await Promise.all(writes)).toEqual(Array(MAX_BATCH_WRITES + 10).fill(1));
    expect(group.stats.commits).toBe(2);
  });

  it('rolls back a failing write alone (its savepoint) and rejects only its promise', async () => {
    const { db, reader } = openDb();
    const group = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const both = db.transaction((k: string) => {
      insert.run(`${k}-a`, 1);
      insert.run(`${k}-a`, 2); // duplicate key: the whole write must vanish
    });
    const ok1 = group.enqueue(async () => insert.run('x', 1));
    const bad = group.enqueue(async () => both('y'));
    const ok2 = group.enqueue(async () => insert.run('z', 3));
    await expect(bad).rejects.toThrow(/UNIQUE/);
    await Promise.all([ok1, ok2]);
    expect(reader.prepare('SELECT k FROM t ORDER BY k').all()).toEqual([{ k: 'x' }, { k: 'z' }]);
  });

  it('lets a lazy write ride along with the next commit, or commits it on its own after the delay', async () => {
    const { db, reader } = openDb();
    const group = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const lazy = group.enqueue(async () => insert.run('lazy', 1), { lazy: true });
    await group.enqueue(async () => insert.run('eager', 2));
    await lazy;
    expect(group.stats.commits).toBe(1);
    const started = Date.now();
    await group.enqueue(async () => insert.run('alone', 3), { lazy: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(LAZY_FLUSH_MS - 2);
    expect((reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(3);
  });
});
