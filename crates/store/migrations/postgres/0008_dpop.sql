-- The DPoP proofs seen (RFC 9449 § 11.1): a proof's `jti` is kept until the proof could no longer
-- be accepted anyway, so a replay is refused by every instance.
CREATE TABLE dpop_proofs (
    jti      TEXT PRIMARY KEY,
    expires  BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_by_expiry ON dpop_proofs (expires);
