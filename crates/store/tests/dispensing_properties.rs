//! Properties of recording dispensings, over any sequence of new dispensings, resends and
//! clashing resends (SQLite; the PostgreSQL path is the same SQL and is covered by the HTTP and
//! crash tests): a resend changes nothing and answers the same; a clash changes nothing; every
//! accepted dispensing has exactly one claim; money is conserved (claims plus co-payments are
//! the prices); and the patient's year never passes the ceiling.

mod common;

use common::TestDb;
use proptest::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use store::{Computed, DispensingKey, NewClaim, NewRecord, Recorded, Store};

const CEILING: u64 = 327_800;

fn key(id: u8, price: u64) -> DispensingKey {
    DispensingKey {
        id: format!("d-{id}"),
        body_sha256: format!("{id}-{price}"),
        date: "2026-06-01".into(),
        pharmacy_id: "A1".into(),
        patient_key: "13097248022".into(),
        year: 2026,
        prescriber_hpr: "9144889".into(),
        created: "2026-06-01T10:00:00Z".into(),
        request: json!({"id": id, "price": price}).to_string(),
    }
}

/// Half the price as co-payment, never past the ceiling; the payer the rest.
fn compute(id: u8, price: u64, counted: u64) -> Computed {
    let copayment = (price / 2).min(CEILING - counted.min(CEILING));
    let payer = price - copayment;
    Computed {
        accepted: true,
        copayment_ore: copayment,
        counted_ore: copayment,
        claims: vec![NewClaim {
            payer: "helfo".into(),
            trust: None,
            amount_ore: i64::try_from(payer).unwrap(),
        }],
        answer: json!({"dispensing_id": format!("d-{id}"), "price_ore": price,
                       "copayment_ore": copayment, "counted": counted + copayment}),
    }
}

fn audit(answer: &str) -> NewRecord {
    NewRecord {
        at: "2026-06-01T10:00:00Z".into(),
        actor: "apotek".into(),
        role: "pharmacist".into(),
        action: "pharmacy:dispensing".into(),
        rule_set: "t".into(),
        request: "{}".into(),
        response: answer.into(),
    }
}

async fn send(store: &Store, id: u8, price: u64) -> Recorded {
    store
        .record_dispensing(
            key(id, price),
            move |year| compute(id, price, year.counted_ore),
            audit,
        )
        .await
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn resends_change_nothing_and_money_is_conserved(
        ops in prop::collection::vec((0u8..8, 1u64..400_000, any::<bool>()), 1..30)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = TestDb::sqlite();
            let store = Store::open(&db.location).await.unwrap();
            // The model: each id's first price and first answer.
            let mut first: HashMap<u8, (u64, String)> = HashMap::new();
            for (id, price, resend) in ops {
                let price = match (first.get(&id), resend) {
                    (Some((p, _)), true) => *p,
                    _ => price,
                };
                match (send(&store, id, price).await, first.get(&id)) {
                    (Recorded::New { answer, .. }, None) => {
                        first.insert(id, (price, answer));
                    }
                    (Recorded::Again { answer, .. }, Some((p, a))) => {
                        prop_assert_eq!(*p, price, "a resend has the first body");
                        prop_assert_eq!(&answer, a, "a resend answers as the first time");
                    }
                    (Recorded::Conflict, Some((p, _))) => {
                        prop_assert_ne!(*p, price, "only another body clashes");
                    }
                    (other, known) => {
                        prop_assert!(false, "unexpected {other:?} for d-{id} (known: {known:?})");
                    }
                }
            }
            let claims = store.claims("helfo", "0000-01", "9999-12").await.unwrap();
            prop_assert_eq!(claims.len(), first.len(), "one claim per dispensing");
            let mut copayments = 0u64;
            for (id, (price, answer)) in &first {
                let a: serde_json::Value = serde_json::from_str(answer).unwrap();
                let copay = a["copayment_ore"].as_u64().unwrap();
                copayments += copay;
                let claim = claims.iter().find(|c| c.dispensing_id == format!("d-{id}")).unwrap();
                prop_assert_eq!(claim.amount_ore as u64 + copay, *price, "the parts are the price");
            }
            prop_assert!(copayments <= CEILING, "the ceiling holds: {}", copayments);
            Ok(())
        })?;
    }
}
