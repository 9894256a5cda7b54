//! The ledger of one lot (one wholesaler's stock of one varenummer with one lot number and
//! expiry). Every change is an event; the balance is the sum of the events' effects, never a
//! stored number that is edited.
//!
//! An event's effect (`delta`) is fixed when it is accepted: a receipt adds, an issue and an
//! expiry take away, an adjustment adds or takes away what it says, a count sets the balance to
//! what was counted (its delta is the difference at its date), and a reversal cancels one
//! earlier event. Because a count's delta depends on what came before it, an event dated before
//! a count that still stands is refused: reverse the count first, then record both again.

use domain::Date;

domain::coded_enum!(
    /// What happened to the stock.
    EventKind {
        /// Received from a supplier (positive quantity).
        Received = "received",
        /// Issued to a pharmacy or hospital (positive quantity).
        Issued = "issued",
        /// Adjusted, with a reason (signed quantity: found or lost).
        Adjusted = "adjusted",
        /// Counted: the quantity is what is on the shelf.
        Counted = "counted",
        /// Expired and taken out (positive quantity).
        Expired = "expired",
        /// Reverses an earlier event of the same lot (quantity 0; `reverses` names it).
        Reversed = "reversed",
    }
);

/// An event as offered, before it is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The day it happened (it may be earlier than today: a back-dated event).
    pub date: Date,
    /// What happened.
    pub kind: EventKind,
    /// Packages: see [`EventKind`] for the sign.
    pub quantity: i64,
    /// For a reversal: the id of the event it cancels.
    pub reverses: Option<i64>,
}

/// An accepted event of one lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Its id: ascending in the order events were accepted.
    pub id: i64,
    /// The day it happened.
    pub date: Date,
    /// What happened.
    pub kind: EventKind,
    /// Packages, as offered.
    pub quantity: i64,
    /// Its effect on the balance, fixed when accepted.
    pub delta: i64,
    /// For a reversal: the event it cancels.
    pub reverses: Option<i64>,
}

/// Why an event is refused, in words a stock manager can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The quantity has the wrong sign or size for the kind.
    #[error("quantity: {0}")]
    Quantity(String),
    /// Accepting it would leave the lot with less than nothing at some time.
    #[error(
        "beholdningen av partiet ville blitt {balance} pakninger {date}: hendelsen avvises (E3: lageret kan aldri ha vært negativt)"
    )]
    Negative {
        /// The first day it would be negative.
        date: Date,
        /// The balance that day.
        balance: i64,
    },
    /// Nothing is issued from a lot past its expiry (E3).
    #[error("partiet gikk ut {expiry}; det kan ikke leveres ut {date}")]
    Expired {
        /// The lot's expiry.
        expiry: Date,
        /// The issue's date.
        date: Date,
    },
    /// A count after this date still stands.
    #[error(
        "partiet ble telt {counted}; en hendelse før tellingen må registreres etter at tellingen er reversert"
    )]
    BeforeCount {
        /// The count's date.
        counted: Date,
    },
    /// Dated after today: stock is recorded when it moves, not before.
    #[error("datoen {date} ligger etter i dag ({today}); registrer hendelsen når den skjer")]
    Future {
        /// The event's date.
        date: Date,
        /// Today.
        today: Date,
    },
    /// The reversal names no event of this lot, a reversal, or one already reversed.
    #[error("reverses: {0}")]
    Reversal(String),
}

/// Whether events `a` and `b` are in ledger order: by date, then by when they were accepted.
fn order(e: &Event) -> (Date, i64) {
    (e.date, e.id)
}

/// The ids of events cancelled by a reversal, with the reversals themselves: neither counts in
/// the running balance (together their deltas sum to nothing).
fn cancelled(events: &[Event]) -> std::collections::HashSet<i64> {
    let mut out = std::collections::HashSet::new();
    for e in events {
        if let Some(target) = e.reverses {
            out.insert(target);
            out.insert(e.id);
        }
    }
    out
}

/// The running balance over `events` (any order), skipping reversed pairs: `(date, balance)`
/// after each day's events, in date order.
pub fn running(events: &[Event]) -> Vec<(Date, i64)> {
    let skip = cancelled(events);
    let mut sorted: Vec<&Event> = events.iter().filter(|e| !skip.contains(&e.id)).collect();
    sorted.sort_by_key(|e| order(e));
    let mut out: Vec<(Date, i64)> = Vec::new();
    let mut balance = 0;
    for e in sorted {
        balance += e.delta;
        match out.last_mut() {
            Some((d, b)) if *d == e.date => *b = balance,
            _ => out.push((e.date, balance)),
        }
    }
    out
}

/// The balance: the sum of every event's effect.
pub fn balance(events: &[Event]) -> i64 {
    events.iter().map(|e| e.delta).sum()
}

/// The balance at the end of `date`.
pub fn balance_on(events: &[Event], date: Date) -> i64 {
    running(events)
        .into_iter()
        .take_while(|(d, _)| *d <= date)
        .last()
        .map_or(0, |(_, b)| b)
}

/// Accepts `new` into the lot whose accepted events are `events` and whose expiry is `expiry`,
/// as event number `id`; or says why not. Nothing is changed: the caller stores the event.
pub fn accept(
    events: &[Event],
    expiry: Date,
    new: &NewEvent,
    id: i64,
) -> Result<Event, LedgerError> {
    let q = new.quantity;
    let positive = |what: &str| {
        if q > 0 {
            Ok(())
        } else {
            Err(LedgerError::Quantity(format!(
                "{what}: ventet et positivt antall pakninger, fikk {q}"
            )))
        }
    };
    if new.kind != EventKind::Reversed && new.reverses.is_some() {
        return Err(LedgerError::Reversal(
            "bare en reversering kan vise til en annen hendelse".into(),
        ));
    }
    // A count that still stands fixes the history before it.
    let skip = cancelled(events);
    if new.kind != EventKind::Reversed
        && let Some(count) = events
            .iter()
            .filter(|e| e.kind == EventKind::Counted && !skip.contains(&e.id) && e.date > new.date)
            .map(|e| e.date)
            .max()
    {
        return Err(LedgerError::BeforeCount { counted: count });
    }
    let delta = match new.kind {
        EventKind::Received => {
            positive("mottatt")?;
            q
        }
        EventKind::Issued => {
            positive("levert ut")?;
            if new.date > expiry {
                return Err(LedgerError::Expired {
                    expiry,
                    date: new.date,
                });
            }
            -q
        }
        EventKind::Expired => {
            positive("utgått")?;
            -q
        }
        EventKind::Adjusted => {
            if q == 0 {
                return Err(LedgerError::Quantity(
                    "justert: ventet et antall forskjellig fra 0".into(),
                ));
            }
            q
        }
        EventKind::Counted => {
            if q < 0 {
                return Err(LedgerError::Quantity(format!(
                    "telt: ventet 0 eller flere pakninger, fikk {q}"
                )));
            }
            q - balance_on(events, new.date)
        }
        EventKind::Reversed => {
            let Some(target) = new.reverses else {
                return Err(LedgerError::Reversal(
                    "oppgi hendelsen som reverseres".into(),
                ));
            };
            let Some(t) = events.iter().find(|e| e.id == target) else {
                return Err(LedgerError::Reversal(format!(
                    "partiet har ingen hendelse {target}"
                )));
            };
            if t.kind == EventKind::Reversed {
                return Err(LedgerError::Reversal(format!(
                    "hendelse {target} er selv en reversering"
                )));
            }
            if skip.contains(&target) {
                return Err(LedgerError::Reversal(format!(
                    "hendelse {target} er allerede reversert"
                )));
            }
            if q != 0 {
                return Err(LedgerError::Quantity(
                    "reversering: antallet er 0 (virkningen er den motsatte av hendelsen)".into(),
                ));
            }
            -t.delta
        }
    };
    let event = Event {
        id,
        date: new.date,
        kind: new.kind,
        quantity: q,
        delta,
        reverses: new.reverses,
    };
    let mut all = events.to_vec();
    all.push(event.clone());
    if let Some((date, balance)) = running(&all).into_iter().find(|(_, b)| *b < 0) {
        return Err(LedgerError::Negative { date, balance });
    }
    Ok(event)
}

/// What the verification found wrong with one lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// An event's stored effect is not what its kind and quantity give.
    WrongDelta {
        /// The event.
        id: i64,
        /// Stored.
        stored: i64,
        /// Recomputed.
        recomputed: i64,
    },
    /// The balance is negative at some time.
    Negative {
        /// The day.
        date: Date,
        /// The balance.
        balance: i64,
    },
    /// A reversal that names nothing valid.
    BadReversal {
        /// The reversal.
        id: i64,
    },
    /// The stored balance (if the caller summed it separately) differs from the events.
    Balance {
        /// From the store.
        stored: i64,
        /// From the events.
        recomputed: i64,
    },
}

/// Recomputes the lot from its events alone: every event's effect from its kind and quantity
/// (a count against the balance replayed before it), no negative balance at any time, every
/// reversal valid, and — when the caller gives one — the balance the store sums agrees.
pub fn verify(events: &[Event], stored_balance: Option<i64>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut by_order: Vec<&Event> = events.iter().collect();
    by_order.sort_by_key(|e| e.id);
    // Replay in acceptance order, as the events were accepted.
    let mut accepted: Vec<Event> = Vec::new();
    for e in by_order {
        let recomputed = match e.kind {
            EventKind::Received => e.quantity,
            EventKind::Issued | EventKind::Expired => -e.quantity,
            EventKind::Adjusted => e.quantity,
            EventKind::Counted => e.quantity - balance_on(&accepted, e.date),
            EventKind::Reversed => {
                match e.reverses.and_then(|t| accepted.iter().find(|a| a.id == t)) {
                    Some(t) if t.kind != EventKind::Reversed => -t.delta,
                    _ => {
                        problems.push(Problem::BadReversal { id: e.id });
                        e.delta
                    }
                }
            }
        };
        if recomputed != e.delta {
            problems.push(Problem::WrongDelta {
                id: e.id,
                stored: e.delta,
                recomputed,
            });
        }
        accepted.push(Event {
            delta: recomputed,
            ..e.clone()
        });
    }
    if let Some((date, balance)) = running(&accepted).into_iter().find(|(_, b)| *b < 0) {
        problems.push(Problem::Negative { date, balance });
    }
    let recomputed = balance(&accepted);
    if let Some(stored) = stored_balance
        && stored != recomputed
    {
        problems.push(Problem::Balance { stored, recomputed });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn ev(date: &str, kind: EventKind, quantity: i64) -> NewEvent {
        NewEvent {
            date: d(date),
            kind,
            quantity,
            reverses: None,
        }
    }

    fn ledger(new: &[NewEvent]) -> Result<Vec<Event>, LedgerError> {
        let mut events = Vec::new();
        for (i, n) in new.iter().enumerate() {
            let e = accept(&events, d("2027-12-31"), n, i as i64 + 1)?;
            events.push(e);
        }
        Ok(events)
    }

    #[test]
    fn receipts_issues_and_counts_make_the_balance() {
        use EventKind::*;
        let events = ledger(&[
            ev("2026-01-05", Received, 100),
            ev("2026-01-10", Issued, 30),
            ev("2026-01-20", Counted, 65),
            ev("2026-01-21", Expired, 5),
        ])
        .unwrap();
        assert_eq!(events[2].delta, -5, "the count found five fewer");
        assert_eq!(balance(&events), 60);
        assert_eq!(balance_on(&events, d("2026-01-15")), 70);
        assert!(verify(&events, Some(60)).is_empty());
    }

    #[test]
    fn a_back_dated_issue_that_would_have_made_stock_negative_is_refused() {
        use EventKind::*;
        let events =
            ledger(&[ev("2026-02-01", Received, 10), ev("2026-02-10", Issued, 10)]).unwrap();
        // Ten issued on 1 Feb would have left nothing for 10 Feb: balance −10 then.
        let e = accept(&events, d("2027-12-31"), &ev("2026-02-05", Issued, 5), 3).unwrap_err();
        assert_eq!(
            e,
            LedgerError::Negative {
                date: d("2026-02-10"),
                balance: -5
            }
        );
        // Before the receipt: negative at once.
        let e = accept(&events, d("2027-12-31"), &ev("2026-01-31", Issued, 1), 3).unwrap_err();
        assert!(matches!(e, LedgerError::Negative { .. }), "{e}");
    }

    #[test]
    fn an_expired_lot_is_not_issued_and_wrong_quantities_are_named() {
        use EventKind::*;
        let events = ledger(&[ev("2026-01-01", Received, 10)]).unwrap();
        let e = accept(&events, d("2026-06-30"), &ev("2026-07-01", Issued, 1), 2).unwrap_err();
        assert!(matches!(e, LedgerError::Expired { .. }), "{e}");
        assert!(e.to_string().contains("2026-06-30"));
        for bad in [
            ev("2026-01-02", Received, 0),
            ev("2026-01-02", Issued, -1),
            ev("2026-01-02", Counted, -3),
        ] {
            assert!(matches!(
                accept(&events, d("2027-01-01"), &bad, 2),
                Err(LedgerError::Quantity(_))
            ));
        }
    }

    #[test]
    fn a_correction_is_a_reversal_and_only_once() {
        use EventKind::*;
        let mut events =
            ledger(&[ev("2026-01-01", Received, 10), ev("2026-01-02", Issued, 4)]).unwrap();
        let rev = NewEvent {
            date: d("2026-01-03"),
            kind: Reversed,
            quantity: 0,
            reverses: Some(2),
        };
        let r = accept(&events, d("2027-01-01"), &rev, 3).unwrap();
        assert_eq!(r.delta, 4);
        events.push(r);
        assert_eq!(balance(&events), 10);
        assert!(matches!(
            accept(&events, d("2027-01-01"), &rev, 4),
            Err(LedgerError::Reversal(_))
        ));
        // Reversing the receipt would leave the issue (now reversed) … nothing; fine. But with a
        // live issue, reversing the receipt would make the stock negative.
        let events =
            ledger(&[ev("2026-01-01", Received, 10), ev("2026-01-02", Issued, 4)]).unwrap();
        let rev = NewEvent {
            date: d("2026-01-03"),
            kind: Reversed,
            quantity: 0,
            reverses: Some(1),
        };
        assert!(matches!(
            accept(&events, d("2027-01-01"), &rev, 3),
            Err(LedgerError::Negative { .. })
        ));
    }

    #[test]
    fn nothing_is_back_dated_past_a_count_that_stands() {
        use EventKind::*;
        let events =
            ledger(&[ev("2026-01-01", Received, 10), ev("2026-01-10", Counted, 9)]).unwrap();
        let e = accept(&events, d("2027-01-01"), &ev("2026-01-05", Received, 3), 3).unwrap_err();
        assert_eq!(
            e,
            LedgerError::BeforeCount {
                counted: d("2026-01-10")
            }
        );
    }

    #[test]
    fn verification_finds_a_tampered_effect() {
        use EventKind::*;
        let mut events =
            ledger(&[ev("2026-01-01", Received, 10), ev("2026-01-02", Issued, 4)]).unwrap();
        events[1].delta = -3;
        let p = verify(&events, Some(7));
        assert!(
            p.contains(&Problem::WrongDelta {
                id: 2,
                stored: -3,
                recomputed: -4
            }),
            "{p:?}"
        );
        assert!(
            p.contains(&Problem::Balance {
                stored: 7,
                recomputed: 6
            }),
            "{p:?}"
        );
    }

    fn arb_event() -> impl Strategy<Value = NewEvent> {
        (0u32..60, 0usize..6, -50i64..200, 0i64..40).prop_map(|(day, k, q, target)| {
            let kind = EventKind::ALL[k];
            NewEvent {
                date: Date::parse("2026-01-01").unwrap().plus_days(day).unwrap(),
                kind,
                quantity: if kind == EventKind::Reversed { 0 } else { q },
                reverses: (kind == EventKind::Reversed).then_some(target),
            }
        })
    }

    proptest! {
        /// Whatever is offered, in whatever order: what is accepted never leaves a negative
        /// balance at any time, conserves stock (received − issued − expired ± adjustments and
        /// counts = balance), and verifies clean.
        #[test]
        fn accepted_events_conserve_stock_and_never_go_negative(offered in prop::collection::vec(arb_event(), 0..80)) {
            let expiry = Date::parse("2026-02-15").unwrap();
            let mut events: Vec<Event> = Vec::new();
            for (i, n) in offered.iter().enumerate() {
                if let Ok(e) = accept(&events, expiry, n, i as i64 + 1) {
                    events.push(e);
                }
            }
            prop_assert!(running(&events).iter().all(|(_, b)| *b >= 0));
            let sum = |k: EventKind| events.iter().filter(|e| e.kind == k).map(|e| e.delta).sum::<i64>();
            let conserved = sum(EventKind::Received) + sum(EventKind::Issued) + sum(EventKind::Expired)
                + sum(EventKind::Adjusted) + sum(EventKind::Counted) + sum(EventKind::Reversed);
            prop_assert_eq!(conserved, balance(&events));
            prop_assert!(balance(&events) >= 0);
            let problems = verify(&events, Some(balance(&events)));
            prop_assert!(problems.is_empty(), "{:?}", problems);
        }
    }
}
