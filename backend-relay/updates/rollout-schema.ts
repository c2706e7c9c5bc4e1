/**
 * Relay schema migration 2: published releases, the fleet's rollout, per-cab pins and the
 * last update check of each cab. Applied by the store's numbered migrations (user_version).
 */
export const ROLLOUT_MIGRATION = `
  CREATE TABLE releases (
    version       TEXT PRIMARY KEY,
    dir           TEXT NOT NULL UNIQUE,   -- folder under RELAY_UPDATES_DIR
    channels      TEXT NOT NULL,          -- JSON array of the latest*.yml files it holds
    published_at  TEXT NOT NULL
  );
  CREATE TABLE release_files (
    version  TEXT NOT NULL REFERENCES releases(version) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    sha512   TEXT NOT NULL,               -- base64, as electron-builder writes it
    PRIMARY KEY (version, name)
  );
  CREATE INDEX release_files_by_name ON release_files(name);
  -- One fleet-wide rollout: the target, the version everyone else stays on, and who gets the target.
  CREATE TABLE rollout (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    target_version  TEXT NOT NULL REFERENCES releases(version),
    stable_version  TEXT REFERENCES releases(version),
    percent         INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    named_cabs      TEXT NOT NULL DEFAULT '[]',
    paused          INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
  );
  CREATE TABLE cab_pins (
    cab_id     TEXT PRIMARY KEY REFERENCES cabs(cab_id) ON DELETE CASCADE,
    version    TEXT NOT NULL REFERENCES releases(version),
    pinned_at  TEXT NOT NULL
  );
  CREATE TABLE update_checks (
    cab_id           TEXT PRIMARY KEY REFERENCES cabs(cab_id) ON DELETE CASCADE,
    checked_at       TEXT NOT NULL,
    offered_version  TEXT
  );
  CREATE TABLE rollout_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL
  );
`;

/**
 * The last update each cab refused to install (unsigned, signed by another key, altered), as
 * the tablet reported it; shown in GET /admin/cabs.
 */
export const UPDATE_REFUSALS_MIGRATION = `
  CREATE TABLE update_refusals (
    cab_id       TEXT PRIMARY KEY REFERENCES cabs(cab_id) ON DELETE CASCADE,
    version      TEXT NOT NULL,
    code         TEXT NOT NULL,
    message      TEXT NOT NULL,
    reported_at  TEXT NOT NULL
  );
`;
