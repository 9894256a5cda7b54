-- The drug catalogue (issue 5): one snapshot per FEST file imported, by its HentetDato, kept so
-- a decision can be replayed on the catalogue of its day. A snapshot is written in one
-- transaction: a failed import leaves the previous one in force.
CREATE TABLE fest_snapshot (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    retrieved  TEXT NOT NULL UNIQUE,
    sha256     TEXT NOT NULL,
    imported   TEXT NOT NULL,
    source     TEXT NOT NULL,
    packages   INTEGER NOT NULL,
    products   INTEGER NOT NULL
);

-- Every entry of a snapshot: its kind (package, product, substance, refund_basis, …), its FEST
-- id, the columns look-ups filter on, and the entry itself as JSON.
CREATE TABLE fest_item (
    snapshot   INTEGER NOT NULL REFERENCES fest_snapshot (id),
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    varenr     TEXT,
    atc        TEXT,
    name       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (snapshot, kind, id)
);

CREATE INDEX fest_item_varenr ON fest_item (snapshot, varenr);
