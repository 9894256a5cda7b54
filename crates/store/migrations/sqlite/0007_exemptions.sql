-- no-transaction
-- The approval exemptions (issue 13, G1–G4) are cases of a third kind, `exemption`. SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt the way SQLite documents it
-- (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off for the connection, the
-- rebuild in one transaction of its own, the references checked before it commits. It can run
-- again after a crash between its commit and sqlx's bookkeeping: it rebuilds the same table.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS cases_new;
CREATE TABLE cases_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('off_label', 'helfo', 'exemption')),
    state        TEXT NOT NULL,
    version      INTEGER NOT NULL,
    author       TEXT NOT NULL,
    author_name  TEXT NOT NULL,
    trust        TEXT,
    home_trust   TEXT,
    clinic       TEXT,
    atc          TEXT NOT NULL,
    substance    TEXT NOT NULL,
    patient_key  TEXT,
    use_kind     TEXT,
    scope        TEXT,
    patients     INTEGER NOT NULL DEFAULT 1,
    cost_ore     INTEGER NOT NULL DEFAULT 0,
    fields       TEXT NOT NULL,
    derived      TEXT,
    valid_from   TEXT,
    valid_until  TEXT,
    omeq         REAL,
    evaluations  INTEGER NOT NULL DEFAULT 0,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL,
    approved     TEXT
);
INSERT INTO cases_new SELECT * FROM cases;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;
CREATE INDEX cases_by_state ON cases (kind, state);
CREATE INDEX cases_by_patient ON cases (patient_key, atc);
COMMIT;
PRAGMA foreign_keys = ON;
