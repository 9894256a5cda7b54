-- Issue 12: the emergency stockpiles' ledger (E1–E4). One row per lot (wholesaler × varenummer ×
-- lot number, with its ATC code and expiry); every change of stock is an event, never edited or
-- deleted (the trigger below); a lot's balance is the sum of its events' deltas. The lot row is
-- taken (UPDATE … RETURNING) by every event of the lot, so two writers — also two service
-- instances — check a back-dated event against the same history, one after the other.
CREATE TABLE stock_lots (
    id          BIGSERIAL PRIMARY KEY,
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
    id         BIGSERIAL PRIMARY KEY,
    lot_id     BIGINT NOT NULL REFERENCES stock_lots (id),
    date       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('received', 'issued', 'adjusted', 'counted', 'expired', 'reversed')),
    quantity   BIGINT NOT NULL,
    delta      BIGINT NOT NULL,
    reverses   BIGINT REFERENCES stock_events (id),
    note       TEXT NOT NULL DEFAULT '',
    event_key  TEXT UNIQUE,
    recorded   TEXT NOT NULL
);

-- Covering indexes: a lot's balance is read from the index alone, and so is a period's sales.
CREATE INDEX stock_events_by_lot ON stock_events (lot_id, delta);
CREATE INDEX stock_events_by_date ON stock_events (kind, date, lot_id, quantity);
CREATE INDEX stock_events_by_reversed ON stock_events (reverses);

CREATE FUNCTION stock_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only: correct with a reversal';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER stock_events_no_change BEFORE UPDATE OR DELETE ON stock_events
    FOR EACH ROW EXECUTE FUNCTION stock_append_only();
