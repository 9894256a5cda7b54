-- The audit trail: every decision served and every change of state, append-only, each record
-- chained to the one before by a SHA-256 hash (see store::chain).
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    rule_set   TEXT NOT NULL,
    request    TEXT NOT NULL,
    response   TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

-- The key the service signs its own tokens with (embedded default), created on first start.
CREATE TABLE signing_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    kid        TEXT NOT NULL,
    pkcs8_hex  TEXT NOT NULL,
    created    TEXT NOT NULL
);
