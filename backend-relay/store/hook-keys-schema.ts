/**
 * Migration: every hook's dedupe key in a table of its own. The keys used to live only in the
 * events and unrouted rows, so pruning an acked event, or deleting its cab, forgot the key and
 * a replayed hook was delivered again. A key is now kept after its event is gone, for at least
 * as long as a PSP could still send that hook validly (see the prune in app.ts).
 */
export const HOOK_KEYS_MIGRATION = `
  CREATE TABLE hook_keys (
    psp          TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    seen_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (psp, dedupe_key)
  ) WITHOUT ROWID;
  CREATE INDEX hook_keys_seen_at ON hook_keys(seen_at_ms);
  INSERT OR IGNORE INTO hook_keys (psp, dedupe_key, seen_at_ms) SELECT psp, dedupe_key, committed_at_ms FROM events;
  INSERT OR IGNORE INTO hook_keys (psp, dedupe_key, seen_at_ms)
    SELECT psp, dedupe_key, CAST(strftime('%s', received_at) AS INTEGER) * 1000 FROM unrouted_hooks;
`;
