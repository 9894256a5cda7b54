//! The emergency stockpiles over HTTP (issue 12, E1–E4), on SQLite and PostgreSQL: events in
//! (all or nothing, checked against each lot's history, resends stored once), lots and coverage
//! out, a delivery picked first expiry first out, a supply stop simulated, the ledger verified,
//! the roles kept; and DMP's restriction in a shortage enforced at the pharmacy's dispensing.

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use server::Role;
use support::{TestDb, call, request, spawn, spawn_with, token};

fn ev(wholesaler: &str, lot: &str, expiry: &str, date: &str, kind: &str, q: i64) -> Value {
    json!({"wholesaler": wholesaler, "varenr": "012345", "lot": lot, "atc": "J01CA04",
           "expiry": expiry, "date": date, "kind": kind, "quantity": q})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e1_e4_the_ledger_coverage_fefo_and_a_supply_stop_over_http() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let manager = token(&app, "stine", Role::StockpileManager, None, None);
        let pharmacist = token(&app, "pal", Role::Pharmacist, None, None);
        let events = "/api/v1/stockpiles/events";

        // A year of sales: two lots in, 3 650 packages out over the year (10 a day).
        let mut batch = vec![
            ev(
                "AHN",
                "A-early",
                "2027-01-31",
                "2025-12-01",
                "received",
                3000,
            ),
            ev(
                "AHN",
                "B-late",
                "2027-12-31",
                "2025-12-01",
                "received",
                2000,
            ),
        ];
        for m in 0..10 {
            batch.push(ev(
                "AHN",
                "A-early",
                "2027-01-31",
                &format!("2026-{:02}-15", m + 1),
                "issued",
                290,
            ));
        }
        batch.push(ev(
            "AHN",
            "B-late",
            "2027-12-31",
            "2026-11-15",
            "issued",
            750,
        ));
        let (status, stored) =
            call(&app, "POST", events, &manager, &json!({"events": batch})).await;
        assert_eq!(status, 201, "{place}: {stored}");
        // Balances: A 3000 − 2900 = 100, B 2000 − 750 = 1250.
        let (_, lots) = call(
            &app,
            "GET",
            "/api/v1/stockpiles/lots?wholesaler=AHN",
            &manager,
            &Value::Null,
        )
        .await;
        let balance = |lot: &str| {
            lots["lots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["lot"] == lot)
                .unwrap()["balance"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(
            (balance("A-early"), balance("B-late")),
            (100, 1250),
            "{place}: {lots}"
        );

        // A back-dated issue that would have emptied A before its later issues: all refused.
        let (status, refused) = call(
            &app,
            "POST",
            events,
            &manager,
            &json!({"events": [ev("AHN", "B-late", "2027-12-31", "2026-11-20", "issued", 1),
                               ev("AHN", "A-early", "2027-01-31", "2026-01-01", "issued", 200)]}),
        )
        .await;
        assert_eq!(
            (status, refused["error"]["field"].as_str()),
            (422, Some("events")),
            "{place}: {refused}"
        );
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("hendelse 2"),
            "{place}: {refused}"
        );
        assert_eq!(
            balance("B-late"),
            1250,
            "{place}: nothing of the batch stored"
        );
        // Bad input names the field.
        let mut bad = ev("XYZ", "L", "2027-01-01", "2026-01-01", "received", 1);
        let (status, e) = call(
            &app,
            "POST",
            events,
            &manager,
            &json!({"events": [bad.clone()]}),
        )
        .await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some("events[0].wholesaler")),
            "{place}: {e}"
        );
        bad["wholesaler"] = json!("AHN");
        bad["varenr"] = json!("12345");
        let (_, e) = call(
            &app,
            "POST",
            events,
            &manager,
            &json!({"events": [bad.clone()]}),
        )
        .await;
        assert_eq!(e["error"]["field"], "events[0].varenr", "{place}");
        // A wrongly typed quantity or key, or a misspelt field, is named — never read as 0, as
        // no key (so a resend would be stored twice) or passed over.
        bad["varenr"] = json!("012345");
        for (field, value) in [
            ("quantity", json!("5")),
            ("key", json!(5)),
            ("kvantum", json!(5)),
        ] {
            let mut wrong = bad.clone();
            wrong[field] = value;
            let (status, e) =
                call(&app, "POST", events, &manager, &json!({"events": [ev("AHN", "ok", "2027-01-01", "2026-01-01", "received", 1), wrong]})).await;
            assert_eq!(status, 422, "{place}: {e}");
            assert_eq!(
                e["error"]["field"],
                format!("events[1].{field}"),
                "{place}: {e}"
            );
        }
        let (_, after) = call(
            &app,
            "GET",
            "/api/v1/stockpiles/lots?wholesaler=AHN",
            &manager,
            &Value::Null,
        )
        .await;
        assert!(
            !after["lots"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["lot"] == "ok"),
            "{place}: nothing of a refused batch stored"
        );
        // A keyed event is stored once.
        let mut keyed = ev("NMD", "N1", "2027-06-30", "2026-11-01", "received", 40);
        keyed["key"] = json!("nmd-ordre-1");
        let (s1, _) = call(
            &app,
            "POST",
            events,
            &manager,
            &json!({"events": [keyed.clone()]}),
        )
        .await;
        let (s2, again) = call(&app, "POST", events, &manager, &json!({"events": [keyed]})).await;
        assert_eq!(
            (s1, s2, again["events"][0]["again"].as_bool()),
            (201, 200, Some(true)),
            "{place}: {again}"
        );

        // Coverage on 30 November 2026: AHN holds 1 350 against 3 650 a year = 135 days; E1 asks
        // six months (182.5) + 20 days of J01CA: below the requirement.
        let (status, cov) = call(
            &app,
            "GET",
            "/api/v1/stockpiles/coverage?date=2026-11-30",
            &manager,
            &Value::Null,
        )
        .await;
        assert_eq!(status, 200, "{place}: {cov}");
        let ahn = cov["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["wholesaler"] == "AHN")
            .unwrap()
            .clone();
        assert_eq!(ahn["stock"], 1350, "{place}: {ahn}");
        assert_eq!(ahn["yearly_sales"], 3650, "{place}: {ahn}");
        assert_eq!(ahn["target_packages"], 2025, "{place}: 3650 × 202.5 / 365");
        assert_eq!(ahn["below_target"], true, "{place}");
        let r = request(
            app.addr,
            "GET",
            "/api/v1/stockpiles/coverage?date=2026-11-30&format=csv",
            &[("Authorization", &format!("Bearer {manager}"))],
            "",
        )
        .await;
        assert!(
            r.body.starts_with("atc,grossist,gruppe,beholdning"),
            "{place}: {}",
            r.body
        );

        // FEFO: 150 packages take A's 100 first (it expires first), then 50 of B.
        let (status, picked) = call(&app, "POST", "/api/v1/stockpiles/allocate", &manager,
            &json!({"wholesaler": "AHN", "varenr": "012345", "quantity": 150, "date": "2026-12-01"})).await;
        assert_eq!(status, 200, "{place}: {picked}");
        assert_eq!(
            picked["picks"],
            json!([{"lot": "A-early", "expiry": "2027-01-31", "quantity": 100}, {"lot": "B-late", "expiry": "2027-12-31", "quantity": 50}]),
            "{place}"
        );
        assert_eq!(picked["shortfall"], 0);
        let (_, short) = call(&app, "POST", "/api/v1/stockpiles/allocate", &manager,
            &json!({"wholesaler": "AHN", "varenr": "012345", "quantity": 5000, "date": "2026-12-01", "dry_run": true})).await;
        assert_eq!(short["shortfall"], 5000 - 1200, "{place}: {short}");
        assert_eq!(
            short["events"],
            json!([]),
            "{place}: a dry run records nothing"
        );
        // `dry_run: "ja"` is refused, not read as «record it» (it was, before the body had a
        // struct); so is a field the delivery does not have.
        for (field, body) in [
            (
                "dry_run",
                json!({"wholesaler": "AHN", "varenr": "012345", "quantity": 1, "dry_run": "ja"}),
            ),
            (
                "dato",
                json!({"wholesaler": "AHN", "varenr": "012345", "quantity": 1, "dato": "2026-12-01"}),
            ),
        ] {
            let (status, e) =
                call(&app, "POST", "/api/v1/stockpiles/allocate", &manager, &body).await;
            assert_eq!(
                (status, e["error"]["field"].as_str()),
                (422, Some(field)),
                "{place}: {e}"
            );
        }

        // A supply stop of 180 days: AHN's 1 200 packages against the year's 3 800 (the 3 650
        // and today's delivery of 150) last 115.3 days: empty on day 116.
        let (status, sim) = call(
            &app,
            "POST",
            "/api/v1/stockpiles/simulate",
            &manager,
            &json!({"atc": "J01CA", "days": 180, "date": "2026-12-01"}),
        )
        .await;
        assert_eq!(status, 200, "{place}: {sim}");
        let ahn = sim["wholesalers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["wholesaler"] == "AHN")
            .unwrap();
        assert_eq!(ahn["empty_on_day"], 116, "{place}: {sim}");
        assert!(
            sim["rationing_from_day"].as_u64().is_some(),
            "{place}: {sim}"
        );
        // Demand over the stop (about 1 874 at AHN, none at NMD) exceeds the 1 240 in stock: a
        // reserve of 20 days' national sales is kept back and the rest shared by demand.
        let shares: i64 = sim["rationed_shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["packages"].as_i64().unwrap())
            .sum();
        let reserve = sim["reserve"].as_i64().unwrap();
        assert!(reserve > 0 && shares == 1240 - reserve, "{place}: {sim}");

        let (_, verified) = call(
            &app,
            "GET",
            "/api/v1/stockpiles/verify",
            &manager,
            &Value::Null,
        )
        .await;
        assert_eq!(verified["ok"], true, "{place}: {verified}");
        assert_eq!(
            call(&app, "POST", events, &pharmacist, &json!({"events": []}))
                .await
                .0,
            403,
            "{place}"
        );
    }
}

/// A rule set with one of DMP's restrictions in force.
fn rationed() -> Arc<ruleset::RuleSet> {
    let files = ruleset::RuleSet::embedded_files().iter().map(|(path, text)| {
        if *path == "rationing.toml" {
            (*path, "rule = \"E4\"\ntitle = \"t\"\nsource = \"test\"\nbasis = \"E4\"\n[[period]]\nfrom = 2024-01-01\n\
                     [[period.restriction]]\nid = \"DMP-TEST-1\"\ntitle = \"mangel på amlodipin\"\natc = [\"C08CA01\"]\n\
                     from = 2026-01-01\nmax_packages = 1\npriority_groups = [\"barn\"]\n")
        } else {
            (*path, *text)
        }
    });
    Arc::new(ruleset::RuleSet::load(files).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e4_a_restriction_in_force_refuses_a_larger_dispensing_and_names_itself() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn_with(db, |c| c.rules = rationed()).await;
        let mut bytes = Vec::new();
        fest::generate::write(
            &mut bytes,
            &fest::generate::Options {
                packages: 400,
                ..Default::default()
            },
        )
        .unwrap();
        let cat = fest::parse(&bytes[..], |_| {}).unwrap();
        app.store
            .import_catalogue(&cat, "test", "test.xml", "2026-11-30T10:00:00Z")
            .await
            .unwrap();
        let amlodipin = cat
            .packages
            .iter()
            .find(|p| {
                p.medicine.atc.as_ref().is_some_and(|a| a.code == "C08CA01")
                    && p.medicine.refunds.iter().any(|_| true)
            })
            .expect("amlodipin");
        let pharmacist = token(&app, "pal", Role::Pharmacist, None, None);
        let body = |id: &str, packages: u32, group: Option<&str>| {
            let mut b = json!({
                "dispensing_id": id, "date": "2026-06-01",
                "pharmacy": {"id": "A1-0042", "name": "Apotek 1 Storgata"},
                "patient": {"id_kind": "fnr", "id": "13097248022", "birth_date": "1972-09-13"},
                "prescription": {"id": format!("resept-{id}"), "form": "blue", "issued": "2026-05-20", "valid_until": "2027-05-20",
                                 "prescriber": {"hpr": "9144889", "name": "Kari Lege", "role": "gp"}, "refund_code": "K86"},
                "drug": {"varenr": amlodipin.varenr}, "packages": packages
            });
            if let Some(g) = group {
                b["patient"]["priority_group"] = json!(g);
            }
            b
        };
        let (status, two) = call(
            &app,
            "POST",
            "/api/v1/pharmacy/dispensings",
            &pharmacist,
            &body("r1", 2, None),
        )
        .await;
        assert_eq!(two["accepted"], false, "{place}: {status} {two}");
        let refusal = two["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "rationed")
            .expect("rationed");
        assert_eq!(refusal["rule"], "E4");
        assert!(
            refusal["message"].as_str().unwrap().contains("DMP-TEST-1"),
            "{place}: {refusal}"
        );
        let (_, one) = call(
            &app,
            "POST",
            "/api/v1/pharmacy/dispensings",
            &pharmacist,
            &body("r2", 1, None),
        )
        .await;
        assert!(
            !one.to_string().contains("rationed"),
            "{place}: one package is allowed: {one}"
        );
        let (_, child) = call(
            &app,
            "POST",
            "/api/v1/pharmacy/dispensings",
            &pharmacist,
            &body("r3", 2, Some("barn")),
        )
        .await;
        assert!(
            !child.to_string().contains("rationed"),
            "{place}: a prioritised group is let through: {child}"
        );

        // E1 sized from the pharmacy side's own dispensings: the 1 + 2 packages of amlodipine,
        // split by the wholesalers' stock of it (no issues in the ledger).
        let manager = token(&app, "stine", Role::StockpileManager, None, None);
        let lot = |w: &str, n: i64| {
            json!({"wholesaler": w, "varenr": "012345", "lot": "L", "atc": "C08CA01",
                                            "expiry": "2028-01-01", "date": "2026-05-01", "kind": "received", "quantity": n})
        };
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/stockpiles/events",
            &manager,
            &json!({"events": [lot("AHN", 200), lot("NMD", 100)]}),
        )
        .await;
        assert_eq!(status, 201, "{place}");
        let (status, cov) = call(
            &app,
            "GET",
            "/api/v1/stockpiles/coverage?date=2026-11-30&sales=dispensings",
            &manager,
            &Value::Null,
        )
        .await;
        assert_eq!(status, 200, "{place}: {cov}");
        let national = cov["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["atc"] == "C08CA01" && l["wholesaler"].is_null())
            .unwrap();
        assert_eq!(national["yearly_sales"], 3, "{place}: {cov}");
        let (status, _) = call(
            &app,
            "GET",
            "/api/v1/stockpiles/coverage?sales=gjett",
            &manager,
            &Value::Null,
        )
        .await;
        assert_eq!(status, 422, "{place}");
    }
}

/// A date the rule data do not cover is the caller's mistake, named (422 on `date`), not a
/// server error — schemathesis found these answering 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_before_the_rule_data_is_named_not_a_server_error() {
    let app = spawn(TestDb::sqlite()).await;
    let manager = token(&app, "stine", Role::StockpileManager, None, None);
    let (status, v) = call(
        &app,
        "GET",
        "/api/v1/stockpiles/coverage?date=2000-01-01",
        &manager,
        &Value::Null,
    )
    .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (422, Some("date")),
        "{v}"
    );
    let (status, v) = call(
        &app,
        "POST",
        "/api/v1/stockpiles/simulate",
        &manager,
        &json!({"days": 30, "atc": "J01CA", "date": "1999-04-28"}),
    )
    .await;
    assert_eq!(
        (status, v["error"]["field"].as_str()),
        (422, Some("date")),
        "{v}"
    );
}
