-- Issue 12: the emergency stockpiles' ledger (E1–E4); see the PostgreSQL migration for the why.
CREATE TABLE stock_lots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    wholesaler  TEXT NOT NULL,
    varenr      TEXT NOT NULL,
    lot         TEXT NOT NULL,
    atc         TEXT NOT NULL,
    expiry      TEXT NOT NULL,
    touched     TEXT NOT NULL,
    UNIQUE (wholesaler, varenr, lot)
);

CREATE INDEX stock_lots_by_atc ON stock_lots (atc, wholesaler);

CREATE TABLE stock_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    lot_id     INTEGER NOT NULL REFERENCES stock_lots (id),
    date       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('received', 'issued', 'adjusted', 'counted', 'expired', 'reversed')),
    quantity   INTEGER NOT NULL,
    delta      INTEGER NOT NULL,
    reverses   INTEGER REFERENCES stock_events (id),
    note       TEXT NOT NULL DEFAULT '',
    event_key  TEXT UNIQUE,
    recorded   TEXT NOT NULL
);

-- Covering indexes: a lot's balance is read from the index alone, and so is a period's sales.
CREATE INDEX stock_events_by_lot ON stock_events (lot_id, delta);
CREATE INDEX stock_events_by_date ON stock_events (kind, date, lot_id, quantity);
CREATE INDEX stock_events_by_reversed ON stock_events (reverses);

CREATE TRIGGER stock_events_no_update BEFORE UPDATE ON stock_events
BEGIN
    SELECT RAISE(ABORT, 'the stock ledger is append-only: correct with a reversal');
END;

CREATE TRIGGER stock_events_no_delete BEFORE DELETE ON stock_events
BEGIN
    SELECT RAISE(ABORT, 'the stock ledger is append-only: correct with a reversal');
END;
