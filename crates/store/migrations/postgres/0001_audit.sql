-- The audit trail: every decision served and every change of state, append-only, each record
-- chained to the one before by a SHA-256 hash (see store::chain).
CREATE TABLE audit (
    seq        BIGINT PRIMARY KEY,
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

CREATE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- The key the service signs its own tokens with (embedded default), created on first start.
CREATE TABLE signing_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    kid        TEXT NOT NULL,
    pkcs8_hex  TEXT NOT NULL,
    created    TEXT NOT NULL
);
