-- Issue 10: the pharmacy side. A dispensing is stored once, by the pharmacy's own id, with the
-- answer it got; its claims (one per paying party other than the patient) are stored with it in
-- the same transaction, and settled at most once (settled_claims' key). Money is never edited:
-- a correction is a new claim that credits an old one.
CREATE TABLE dispensings (
    dispensing_id   TEXT PRIMARY KEY,
    body_sha256     TEXT NOT NULL,
    date            TEXT NOT NULL,
    pharmacy_id     TEXT NOT NULL,
    patient_key     TEXT NOT NULL,
    year            INTEGER NOT NULL,
    prescriber_hpr  TEXT NOT NULL,
    accepted        INTEGER NOT NULL,
    copayment_ore   BIGINT NOT NULL,
    counted_ore     BIGINT NOT NULL,
    request         TEXT NOT NULL,
    answer          TEXT NOT NULL,
    audit_seq       BIGINT NOT NULL,
    created         TEXT NOT NULL
);

CREATE INDEX dispensings_by_patient_year ON dispensings (patient_key, year);
CREATE INDEX dispensings_by_prescriber_day ON dispensings (patient_key, date, prescriber_hpr);

-- One row per patient and year, taken (UPDATE … RETURNING) by every dispensing for the patient
-- that year: the year's co-payment is summed and the next one computed under that lock, so two
-- pharmacies at once can never together pass the ceiling. It holds no money.
CREATE TABLE patient_years (
    patient_key  TEXT NOT NULL,
    year         INTEGER NOT NULL,
    touched      TEXT NOT NULL,
    PRIMARY KEY (patient_key, year)
);

CREATE TABLE claims (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    dispensing_id  TEXT NOT NULL REFERENCES dispensings (dispensing_id) DEFERRABLE INITIALLY DEFERRED,
    payer          TEXT NOT NULL CHECK (payer IN ('helfo', 'rhf', 'hf')),
    trust          TEXT,
    amount_ore     BIGINT NOT NULL,
    period         TEXT NOT NULL,
    credit_of      BIGINT,
    created        TEXT NOT NULL
);

CREATE INDEX claims_by_payer_period ON claims (payer, period);
-- Also what the reference from claims to dispensings is checked through: without it every
-- new dispensing scans all claims.
CREATE INDEX claims_by_dispensing ON claims (dispensing_id);

CREATE TABLE settlements (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    payer     TEXT NOT NULL,
    period    TEXT NOT NULL,
    created   TEXT NOT NULL,
    claims    BIGINT NOT NULL,
    sum_ore   BIGINT NOT NULL
);

CREATE TABLE settled_claims (
    claim_id       BIGINT PRIMARY KEY REFERENCES claims (id),
    settlement_id  BIGINT NOT NULL REFERENCES settlements (id)
);

CREATE TRIGGER dispensings_no_update BEFORE UPDATE ON dispensings
BEGIN SELECT RAISE(ABORT, 'dispensings are never edited'); END;
CREATE TRIGGER dispensings_no_delete BEFORE DELETE ON dispensings
BEGIN SELECT RAISE(ABORT, 'dispensings are never removed'); END;
CREATE TRIGGER claims_no_update BEFORE UPDATE ON claims
BEGIN SELECT RAISE(ABORT, 'claims are never edited: credit them'); END;
CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims
BEGIN SELECT RAISE(ABORT, 'claims are never removed: credit them'); END;
CREATE TRIGGER settled_no_update BEFORE UPDATE ON settled_claims
BEGIN SELECT RAISE(ABORT, 'a settled claim stays settled'); END;
CREATE TRIGGER settled_no_delete BEFORE DELETE ON settled_claims
BEGIN SELECT RAISE(ABORT, 'a settled claim stays settled'); END;
