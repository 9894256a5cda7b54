//! The emergency stockpiles' ledger (issue 12, E1–E4): lots and their append-only events.
//!
//! Every event is checked by [`stock::ledger::accept`] against its lot's whole history inside the
//! transaction that stores it, with the lot's row taken first: a back-dated event is refused if
//! the lot would ever have been negative, whatever another writer (another service instance) is
//! doing at the same moment. Balances are sums of the events' deltas; nothing is edited.

use std::collections::HashMap;

use domain::Date;
use sqlx::{AnyConnection, Row};
use stock::ledger::{self, Event, EventKind, LedgerError, NewEvent};

use crate::{NewRecord, Store, StoreError, append_in};

/// A lot, as an event names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LotKey {
    /// The wholesaler's id (rule data E1).
    pub wholesaler: String,
    /// The package's varenummer.
    pub varenr: String,
    /// The lot number.
    pub lot: String,
}

/// An event offered for a lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockEventIn {
    /// The lot.
    pub lot: LotKey,
    /// The medicine's ATC code (stored with the lot at its first event).
    pub atc: String,
    /// The lot's expiry (likewise; later events must agree).
    pub expiry: Date,
    /// The event.
    pub event: NewEvent,
    /// Why (an adjustment's reason, a delivery's reference).
    pub note: String,
    /// The sender's own id for the event: the same key again is the same event, stored once.
    pub key: Option<String>,
}

/// What became of an offered event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Stored, with its id and effect.
    New(Event),
    /// Its key was stored before: nothing written.
    Again(i64),
    /// Refused by the ledger's rules: nothing written.
    Refused(LedgerError),
    /// The lot exists with another ATC code or expiry.
    Mismatch(String),
}

/// A lot and its balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotBalance {
    /// The lot's row.
    pub id: i64,
    /// Wholesaler, varenummer, lot number.
    pub key: LotKey,
    /// ATC code.
    pub atc: String,
    /// Expiry (`YYYY-MM-DD`).
    pub expiry: String,
    /// Packages on hand: the sum of the events' deltas.
    pub balance: i64,
}

/// Sales (issues not reversed) of one medicine by one wholesaler in a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sales {
    /// Wholesaler.
    pub wholesaler: String,
    /// ATC code.
    pub atc: String,
    /// Packages.
    pub packages: i64,
}

/// A lot the verification found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotProblem {
    /// The lot.
    pub key: LotKey,
    /// What is wrong.
    pub problems: Vec<ledger::Problem>,
}

fn event_of(r: &sqlx::any::AnyRow) -> Result<Event, StoreError> {
    let date: String = r.try_get(1)?;
    let kind: String = r.try_get(2)?;
    Ok(Event {
        id: r.try_get(0)?,
        date: Date::parse(&date).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        kind: EventKind::from_code(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("ukjent lagerhendelse «{kind}»")))?,
        quantity: r.try_get(3)?,
        delta: r.try_get(4)?,
        reverses: r.try_get(5)?,
    })
}

async fn lot_events(conn: &mut AnyConnection, lot_id: i64) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, date, kind, quantity, delta, reverses FROM stock_events WHERE lot_id = $1 ORDER BY id",
    )
    .bind(lot_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(event_of).collect()
}

/// The lot's row, created if new, and taken (a write) so its events are checked one writer at a
/// time; with its ATC code and expiry.
async fn take_lot(
    conn: &mut AnyConnection,
    e: &StockEventIn,
    now: &str,
) -> Result<(i64, String, String), StoreError> {
    sqlx::query(
        "INSERT INTO stock_lots (wholesaler, varenr, lot, atc, expiry, touched) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (wholesaler, varenr, lot) DO NOTHING",
    )
    .bind(&e.lot.wholesaler)
    .bind(&e.lot.varenr)
    .bind(&e.lot.lot)
    .bind(&e.atc)
    .bind(e.expiry.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "UPDATE stock_lots SET touched = $4 WHERE wholesaler = $1 AND varenr = $2 AND lot = $3 \
         RETURNING id, atc, expiry",
    )
    .bind(&e.lot.wholesaler)
    .bind(&e.lot.varenr)
    .bind(&e.lot.lot)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

async fn append_in_tx(
    conn: &mut AnyConnection,
    batch: Vec<StockEventIn>,
    now: String,
    audit: Option<NewRecord>,
) -> Result<Vec<Appended>, StoreError> {
    // Each lot's history once per batch, kept up to date as events are accepted.
    let mut lots: HashMap<LotKey, (i64, String, String, Vec<Event>)> = HashMap::new();
    let mut out = Vec::with_capacity(batch.len());
    for e in batch {
        if let Some(key) = &e.key {
            let row = sqlx::query("SELECT id FROM stock_events WHERE event_key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(row) = row {
                out.push(Appended::Again(row.try_get(0)?));
                continue;
            }
        }
        if !lots.contains_key(&e.lot) {
            let (id, atc, expiry) = take_lot(conn, &e, &now).await?;
            let events = lot_events(conn, id).await?;
            lots.insert(e.lot.clone(), (id, atc, expiry, events));
        }
        let Some((lot_id, atc, expiry, events)) = lots.get_mut(&e.lot) else {
            continue;
        };
        if *atc != e.atc || *expiry != e.expiry.to_string() {
            out.push(Appended::Mismatch(format!(
                "partiet {} av {} hos {} er registrert med ATC {atc} og utløp {expiry}, ikke {} og {}",
                e.lot.lot, e.lot.varenr, e.lot.wholesaler, e.atc, e.expiry
            )));
            continue;
        }
        if let Some(today) = now.get(..10).and_then(|d| Date::parse(d).ok())
            && e.event.date > today
        {
            out.push(Appended::Refused(LedgerError::Future {
                date: e.event.date,
                today,
            }));
            continue;
        }
        let next = events.iter().map(|x| x.id).max().unwrap_or(0) + 1;
        let accepted = match ledger::accept(events, e.expiry, &e.event, next) {
            Ok(a) => a,
            Err(refusal) => {
                out.push(Appended::Refused(refusal));
                continue;
            }
        };
        let row = sqlx::query(
            "INSERT INTO stock_events (lot_id, date, kind, quantity, delta, reverses, note, event_key, recorded) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(*lot_id)
        .bind(accepted.date.to_string())
        .bind(accepted.kind.code())
        .bind(accepted.quantity)
        .bind(accepted.delta)
        .bind(accepted.reverses)
        .bind(&e.note)
        .bind(&e.key)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?;
        let stored = Event {
            id: row.try_get(0)?,
            ..accepted
        };
        events.push(stored.clone());
        out.push(Appended::New(stored));
    }
    if let Some(record) = audit {
        append_in(conn, vec![record]).await?;
    }
    Ok(out)
}

impl Store {
    /// Stores a batch of stock events in one transaction, each checked against its lot's whole
    /// history (E3: never negative at any time), with `audit` (if given) in the same
    /// transaction. Returns what became of each, in order; a refused event writes nothing and
    /// does not stop the others.
    pub async fn append_stock_events(
        &self,
        batch: Vec<StockEventIn>,
        now: String,
        audit: Option<NewRecord>,
    ) -> Result<Vec<Appended>, StoreError> {
        self.write(move |conn| Box::pin(append_in_tx(conn, batch, now, audit)))
            .await
    }

    /// Stores a batch of stock events all together or not at all (a delivery's picks, an API
    /// call): the first refusal rolls the transaction back and is returned as
    /// [`StoreError::StockRefused`]; an event whose key was stored before is [`Appended::Again`].
    pub async fn append_stock_events_all(
        &self,
        batch: Vec<StockEventIn>,
        now: String,
        audit: Option<NewRecord>,
    ) -> Result<Vec<Appended>, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let results = append_in_tx(conn, batch, now, audit).await?;
                for (i, r) in results.iter().enumerate() {
                    match r {
                        Appended::Refused(e) => {
                            return Err(StoreError::StockRefused(format!(
                                "hendelse {}: {e}",
                                i + 1
                            )));
                        }
                        Appended::Mismatch(m) => {
                            return Err(StoreError::StockRefused(format!(
                                "hendelse {}: {m}",
                                i + 1
                            )));
                        }
                        Appended::New(_) | Appended::Again(_) => {}
                    }
                }
                Ok(results)
            })
        })
        .await
    }

    /// Every lot with its balance (the sum of its events), optionally of one wholesaler or ATC
    /// prefix.
    pub async fn stock_balances(
        &self,
        wholesaler: Option<&str>,
        atc_prefix: Option<&str>,
    ) -> Result<Vec<LotBalance>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.id, l.wholesaler, l.varenr, l.lot, l.atc, l.expiry, \
             CAST(COALESCE(SUM(e.delta), 0) AS BIGINT) \
             FROM stock_lots l LEFT JOIN stock_events e ON e.lot_id = l.id \
             WHERE ($1 = '' OR l.wholesaler = $1) AND ($2 = '' OR l.atc LIKE $2 || '%') \
             GROUP BY l.id, l.wholesaler, l.varenr, l.lot, l.atc, l.expiry \
             ORDER BY l.atc, l.wholesaler, l.expiry, l.lot",
        )
        .bind(wholesaler.unwrap_or(""))
        .bind(atc_prefix.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LotBalance {
                    id: r.try_get(0)?,
                    key: LotKey {
                        wholesaler: r.try_get(1)?,
                        varenr: r.try_get(2)?,
                        lot: r.try_get(3)?,
                    },
                    atc: r.try_get(4)?,
                    expiry: r.try_get(5)?,
                    balance: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Packages issued (and not reversed) per wholesaler and ATC code from `from` to `to`
    /// inclusive: the wholesalers' sales to pharmacies, the base of the requirement (E1).
    pub async fn stock_sales(&self, from: Date, to: Date) -> Result<Vec<Sales>, StoreError> {
        // All issues in the period, less those reversed: two sums rather than a look-up per
        // issue (reversals are few; issues are most of the ledger).
        let sums = |sql: &'static str| {
            sqlx::query(sql)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(&self.pool)
        };
        let issued = sums(
            "SELECT l.wholesaler, l.atc, CAST(SUM(e.quantity) AS BIGINT) \
             FROM stock_events e JOIN stock_lots l ON l.id = e.lot_id \
             WHERE e.kind = 'issued' AND e.date >= $1 AND e.date <= $2 \
             GROUP BY l.wholesaler, l.atc ORDER BY l.atc, l.wholesaler",
        )
        .await?;
        let reversed = sums(
            "SELECT l.wholesaler, l.atc, CAST(SUM(t.quantity) AS BIGINT) \
             FROM stock_events r JOIN stock_events t ON t.id = r.reverses JOIN stock_lots l ON l.id = t.lot_id \
             WHERE r.kind = 'reversed' AND t.kind = 'issued' AND t.date >= $1 AND t.date <= $2 \
             GROUP BY l.wholesaler, l.atc",
        )
        .await?;
        let mut less: HashMap<(String, String), i64> = HashMap::new();
        for r in &reversed {
            less.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
        }
        issued
            .iter()
            .map(|r| {
                let (wholesaler, atc): (String, String) = (r.try_get(0)?, r.try_get(1)?);
                let sold: i64 = r.try_get(2)?;
                let packages = sold
                    - less
                        .get(&(wholesaler.clone(), atc.clone()))
                        .copied()
                        .unwrap_or(0);
                Ok(Sales {
                    wholesaler,
                    atc,
                    packages,
                })
            })
            .collect()
    }

    /// Packages the pharmacies have handed out per ATC code from `from` to `to` inclusive, from
    /// the pharmacy side's own accepted dispensings (their stored answers name the dispensed
    /// package's ATC code and the packages, fractions included).
    pub async fn dispensed_packages(
        &self,
        from: Date,
        to: Date,
    ) -> Result<std::collections::BTreeMap<String, f64>, StoreError> {
        let rows = sqlx::query(
            "SELECT answer FROM dispensings WHERE accepted = $1 AND date >= $2 AND date <= $3",
        )
        .bind(true)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = std::collections::BTreeMap::new();
        for r in &rows {
            let answer: String = r.try_get(0)?;
            let v: serde_json::Value = serde_json::from_str(&answer)
                .map_err(|e| StoreError::Corrupt(format!("en utlevering: {e}")))?;
            if let (Some(atc), Some(packages)) =
                (v["dispensed_atc"].as_str(), v["packages"].as_f64())
            {
                *out.entry(atc.to_string()).or_default() += packages;
            }
        }
        Ok(out)
    }

    /// The events of one lot, in the order they were accepted.
    pub async fn stock_lot_events(&self, lot: &LotKey) -> Result<Vec<Event>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(
            "SELECT id FROM stock_lots WHERE wholesaler = $1 AND varenr = $2 AND lot = $3",
        )
        .bind(&lot.wholesaler)
        .bind(&lot.varenr)
        .bind(&lot.lot)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            Some(r) => lot_events(&mut conn, r.try_get(0)?).await,
            None => Ok(Vec::new()),
        }
    }

    /// Recomputes every lot from its events ([`stock::ledger::verify`]) against the balance the
    /// database sums, a page of lots at a time; `progress` is told how many lots are done.
    /// Returns the lots that are wrong and how many lots and events were checked.
    pub async fn verify_stock(
        &self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(Vec<LotProblem>, usize, usize), StoreError> {
        let mut balances = self.stock_balances(None, None).await?;
        // By row id, so each page of lots is one range of ids.
        balances.sort_by_key(|b| b.id);
        let total = balances.len();
        let mut problems = Vec::new();
        let mut events_checked = 0;
        const PAGE: usize = 500;
        for (page, chunk) in balances.chunks(PAGE).enumerate() {
            let (low, high) = (chunk[0].id, chunk[chunk.len() - 1].id);
            let ids: std::collections::HashSet<i64> = chunk.iter().map(|b| b.id).collect();
            let rows = sqlx::query(
                "SELECT id, date, kind, quantity, delta, reverses, lot_id FROM stock_events \
                 WHERE lot_id >= $1 AND lot_id <= $2 ORDER BY lot_id, id",
            )
            .bind(low.min(high))
            .bind(low.max(high))
            .fetch_all(&self.pool)
            .await?;
            let mut by_lot: HashMap<i64, Vec<Event>> = HashMap::new();
            for r in &rows {
                let lot: i64 = r.try_get(6)?;
                if ids.contains(&lot) {
                    by_lot.entry(lot).or_default().push(event_of(r)?);
                }
            }
            for b in chunk {
                let events = by_lot.remove(&b.id).unwrap_or_default();
                events_checked += events.len();
                let found = ledger::verify(&events, Some(b.balance));
                if !found.is_empty() {
                    problems.push(LotProblem {
                        key: b.key.clone(),
                        problems: found,
                    });
                }
            }
            progress(((page + 1) * PAGE).min(total), total);
        }
        Ok((problems, total, events_checked))
    }
}
