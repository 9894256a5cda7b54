-- Issue 9: the foundation made trustworthy.
--
-- The chain's head lives in one row, updated in the same transaction as the records appended
-- after it. Every append starts by taking this row (an UPDATE … RETURNING: the database's own
-- write lock), so any number of writers — the audit writer's group commits, case changes with
-- their audit record, a second `serve` process — append one after the other to one chain, and a
-- sequence number is issued only by a commit that stores it.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
SELECT 1,
       COALESCE((SELECT seq FROM audit ORDER BY seq DESC LIMIT 1), 0),
       COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),
                '0000000000000000000000000000000000000000000000000000000000000000');

-- Who this database is: a random id written once, also kept in a file beside an SQLite
-- database, so a database file deleted or replaced under the service is noticed instead of
-- silently re-created (with a new signing key and an empty audit trail).
CREATE TABLE store_identity (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    uuid     TEXT NOT NULL,
    created  TEXT NOT NULL
);

-- What the readiness check writes: ready means the store takes a commit of a real size (64 KiB,
-- more than a batch of audit records), not only a read. The probe row is removed again in the
-- same transaction; the time of the last good probe stays.
CREATE TABLE heartbeat (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  TEXT NOT NULL
);

CREATE TABLE write_probe (
    id   INTEGER PRIMARY KEY,
    pad  BYTEA NOT NULL
);

-- Web sessions ended by signing out, until their token would have expired anyway: logging out
-- ends the session on every instance, not only in one browser.
CREATE TABLE ended_sessions (
    token_hash  TEXT PRIMARY KEY,
    expires     BIGINT NOT NULL
);

-- TRUNCATE skips row triggers: refuse it on its own, like UPDATE and DELETE.
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE FUNCTION audit_head_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit head is never removed';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_kept();

-- Each case event names the audit record written in its transaction, so the start-up check that
-- every case change is in the audit trail is a join on the audit trail's key, not a scan of it.
-- Events from before this migration have none and are matched by the records' content instead.
ALTER TABLE case_events ADD COLUMN audit_seq BIGINT;
