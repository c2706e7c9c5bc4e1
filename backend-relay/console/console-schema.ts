/**
 * The fleet console's tables: operator accounts (scrypt password hashes), their sessions (only
 * a hash of each cookie is stored) and the audit log of every login and every change.
 */
export const CONSOLE_MIGRATION = `
  CREATE TABLE operators (
    name                  TEXT PRIMARY KEY,
    role                  TEXT NOT NULL CHECK (role IN ('admin','operator','viewer')),
    password_hash         TEXT NOT NULL,
    must_change_password  INTEGER NOT NULL DEFAULT 1,
    disabled              INTEGER NOT NULL DEFAULT 0,
    created_at            TEXT NOT NULL,
    password_changed_at   TEXT NOT NULL,
    last_login_at         TEXT
  );
  CREATE TABLE operator_sessions (
    token_hash       TEXT PRIMARY KEY,
    operator         TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    csrf_token       TEXT NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    last_used_at_ms  INTEGER NOT NULL,
    expires_at_ms    INTEGER NOT NULL
  );
  CREATE INDEX operator_sessions_by_operator ON operator_sessions(operator);
  CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok','refused')),
    detail     TEXT,
    ip         TEXT
  );
  CREATE INDEX audit_log_by_target ON audit_log(target, id);
`;
