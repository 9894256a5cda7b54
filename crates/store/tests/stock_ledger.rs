//! The stock ledger in the store (issue 12, E1–E4), on SQLite and PostgreSQL: events checked
//! against the lot's whole history in the transaction that stores them; a back-dated event that
//! would have made stock negative is refused; two writers at once (as two service instances)
//! can never together issue more than the lot holds; the ledger is append-only in the database
//! itself; a resent event (same key) is stored once; and the verification recomputes every
//! balance from the events.

mod common;

use common::TestDb;
use domain::Date;
use stock::ledger::{EventKind, LedgerError, NewEvent};
use store::Store;
use store::stock_ledger::{Appended, LotKey, StockEventIn};

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn event(lot: &str, date: &str, kind: EventKind, quantity: i64) -> StockEventIn {
    StockEventIn {
        lot: LotKey {
            wholesaler: "AHN".into(),
            varenr: "012345".into(),
            lot: lot.into(),
        },
        atc: "J01CA04".into(),
        expiry: d("2027-06-30"),
        event: NewEvent {
            date: d(date),
            kind,
            quantity,
            reverses: None,
        },
        note: String::new(),
        key: None,
    }
}

async fn one(store: &Store, e: StockEventIn) -> Appended {
    store
        .append_stock_events(vec![e], "2026-12-01T10:00:00Z".into(), None)
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ledger_refuses_negative_history_races_and_edits_on_both_databases() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let store = Store::open(&db.location).await.unwrap();
        use EventKind::*;
        assert!(matches!(
            one(&store, event("L1", "2026-01-05", Received, 10)).await,
            Appended::New(_)
        ));
        assert!(matches!(
            one(&store, event("L1", "2026-01-20", Issued, 8)).await,
            Appended::New(_)
        ));
        // Back-dated: five issued on 10 January would have left −3 on the 20th.
        assert_eq!(
            one(&store, event("L1", "2026-01-10", Issued, 5)).await,
            Appended::Refused(LedgerError::Negative {
                date: d("2026-01-20"),
                balance: -3
            }),
            "{place}"
        );
        // Stock is recorded when it moves: not dated after today.
        assert!(
            matches!(
                one(&store, event("L1", "2026-12-02", Received, 1)).await,
                Appended::Refused(LedgerError::Future { .. })
            ),
            "{place}"
        );
        // The lot's expiry is fixed by its first event.
        let mut other = event("L1", "2026-01-21", Received, 1);
        other.expiry = d("2028-01-01");
        assert!(
            matches!(one(&store, other).await, Appended::Mismatch(_)),
            "{place}"
        );
        // A resend with the same key is stored once.
        let mut keyed = event("L1", "2026-01-22", Received, 4);
        keyed.key = Some("ordre-77".into());
        let first = one(&store, keyed.clone()).await;
        let Appended::New(stored) = first else {
            panic!("{place}: {first:?}")
        };
        assert_eq!(
            one(&store, keyed).await,
            Appended::Again(stored.id),
            "{place}"
        );

        // Two writers at once, each issuing 4 of the 6 left: exactly one gets them.
        let (a, b) = tokio::join!(
            one(&store, event("L1", "2026-02-01", Issued, 4)),
            one(&store, event("L1", "2026-02-01", Issued, 4)),
        );
        let accepted = [&a, &b]
            .iter()
            .filter(|x| matches!(x, Appended::New(_)))
            .count();
        assert_eq!(accepted, 1, "{place}: {a:?} {b:?}");
        let balances = store.stock_balances(None, None).await.unwrap();
        assert_eq!(balances[0].balance, 2, "{place}");

        // The database itself refuses edits and deletions.
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        for sql in [
            "UPDATE stock_events SET delta = 100",
            "DELETE FROM stock_events",
        ] {
            let e = sqlx::query(sql).execute(&pool).await.unwrap_err();
            assert!(e.to_string().contains("append-only"), "{place}: {e}");
        }
        pool.close().await;

        // Sales (issues not reversed) and the verification.
        let sales = store
            .stock_sales(d("2026-01-01"), d("2026-12-31"))
            .await
            .unwrap();
        assert_eq!(sales[0].packages, 12, "{place}: 8 + 4");
        // A correction is a reversal: the issue of 1 February is undone, sales and stock follow.
        let issued = [&a, &b]
            .into_iter()
            .find_map(|x| match x {
                Appended::New(e) => Some(e.id),
                _ => None,
            })
            .unwrap();
        let reversal = StockEventIn {
            event: NewEvent {
                date: d("2026-02-02"),
                kind: Reversed,
                quantity: 0,
                reverses: Some(issued),
            },
            ..event("L1", "2026-02-02", Reversed, 0)
        };
        assert!(
            matches!(one(&store, reversal).await, Appended::New(_)),
            "{place}"
        );
        let sales = store
            .stock_sales(d("2026-01-01"), d("2026-12-31"))
            .await
            .unwrap();
        assert_eq!(
            sales[0].packages, 8,
            "{place}: the reversed issue is not a sale"
        );
        assert_eq!(
            store.stock_balances(None, None).await.unwrap()[0].balance,
            6,
            "{place}"
        );
        let (problems, lots, events) = store.verify_stock(|_, _| {}).await.unwrap();
        assert!(problems.is_empty(), "{place}: {problems:?}");
        assert_eq!((lots, events), (1, 5), "{place}");
        store.close().await;
    }
}
