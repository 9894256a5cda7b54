-- The case workflows (issue 4): off-label applications in the trusts and § 3 applications to
-- Helfo. One row per case with the columns the lists and overviews filter on; the form as
-- typed and what the decision engine filled in are JSON text. `version` grows by one on every
-- change: a change names the version it was made from and is refused if the case has moved
-- (optimistic concurrency).
CREATE TABLE cases (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('off_label', 'helfo')),
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

CREATE INDEX cases_by_state ON cases (kind, state);
CREATE INDEX cases_by_patient ON cases (patient_key, atc);

-- Every change of a case, in order: who, in which role, from which state to which, and the line
-- that goes in the record. The key (case, version) makes a second change from the same version
-- impossible even if two requests race. Append-only, like the audit trail.
CREATE TABLE case_events (
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    version     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (case_id, version)
);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case events are append-only');
END;

CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case events are append-only');
END;
