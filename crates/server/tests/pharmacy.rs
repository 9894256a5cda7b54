//! Pharmacy contract v1 over HTTP, on SQLite and PostgreSQL: a dispensing is priced from FEST,
//! split between payer and patient to the øre, stored exactly once by its id, and the yearly
//! ceiling holds across dispensings.

mod support;

use serde_json::{Value, json};
use server::Role;
use support::{TestApp, TestDb, request, spawn, token};

async fn with_catalogue(db: TestDb) -> (TestApp, fest::Catalogue) {
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
    let app = spawn(db).await;
    app.store
        .import_catalogue(&cat, "test", "test.xml", "2026-11-30T10:00:00Z")
        .await
        .unwrap();
    (app, cat)
}

fn dispensing(id: &str, varenr: &str, birth: &str) -> Value {
    json!({
        "dispensing_id": id,
        "date": "2026-06-01",
        "pharmacy": {"id": "A1-0042", "name": "Apotek 1 Storgata"},
        "patient": {"id_kind": "fnr", "id": "13097248022", "birth_date": birth},
        "prescription": {
            "id": format!("resept-{id}"), "form": "blue",
            "issued": "2026-05-20", "valid_until": "2027-05-20",
            "prescriber": {"hpr": "9144889", "name": "Kari Lege", "role": "gp"},
            "refund_code": "K86"
        },
        "drug": {"varenr": varenr},
        "packages": 1
    })
}

async fn send(app: &TestApp, t: &str, body: &Value) -> (u16, Value) {
    let r = request(
        app.addr,
        "POST",
        "/api/v1/pharmacy/dispensings",
        &[("Authorization", &format!("Bearer {t}"))],
        &body.to_string(),
    )
    .await;
    let v = serde_json::from_str(&r.body).unwrap_or(Value::String(r.body.clone()));
    (r.status, v)
}

fn sum_of_lines(answer: &Value) -> u64 {
    answer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount_ore"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blue_dispensing_is_priced_split_and_stored_exactly_once() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let (app, cat) = with_catalogue(db).await;
        let amlodipin = cat
            .packages
            .iter()
            .find(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == "C08CA01"))
            .unwrap();
        let day = domain::Date::parse("2026-06-01").unwrap();
        let price = amlodipin
            .price_on(&fest::model::PriceKind::Aup, day)
            .unwrap();
        let pharmacist = token(&app, "farmasoyt", Role::Pharmacist, None, None);

        let body = dispensing("d-1", &amlodipin.varenr, "1960-01-01");
        let (status, first) = send(&app, &pharmacist, &body).await;
        assert_eq!(status, 201, "{first} {place}");
        assert_eq!(first["accepted"], true, "{first}");
        assert_eq!(first["price_ore"], price);
        assert_eq!(sum_of_lines(&first), price, "the lines add up to the price");
        let expected_copay = (price * 60 / 100).min(40_000);
        assert_eq!(first["copayment_ore"], expected_copay, "{first}");
        assert_eq!(first["lines"][0]["payer"], "folketrygden");
        assert_eq!(first["claim_ids"].as_array().unwrap().len(), 1);

        // The same id and body: the same answer, nothing new.
        let (status, again) = send(&app, &pharmacist, &body).await;
        assert_eq!((status, &again), (200, &first));
        // The same id, another body: refused, nothing changed.
        let mut other = body.clone();
        other["packages"] = json!(2);
        let (status, conflict) = send(&app, &pharmacist, &other).await;
        assert_eq!(status, 409, "{conflict}");
        assert_eq!(conflict["error"]["field"], "dispensing_id");

        // A child pays no co-payment.
        let mut young = dispensing("d-child", &amlodipin.varenr, "2015-03-01");
        young["patient"] = json!({"id_kind": "none", "birth_date": "2015-03-01"});
        let (_, child) = send(&app, &pharmacist, &young).await;
        assert_eq!(child["copayment_ore"], 0, "{child}");
        assert_eq!(sum_of_lines(&child), price);

        // Bad input names its field.
        let mut bad = dispensing("d-bad", "12", "1960-01-01");
        bad["drug"]["varenr"] = json!("12");
        let (status, err) = send(&app, &pharmacist, &bad).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("drug.varenr"))
        );

        // The claims on Helfo.
        let caseworker = token(&app, "helfo", Role::HelfoCaseworker, None, None);
        let r = request(
            app.addr,
            "GET",
            "/api/v1/pharmacy/claims?payer=helfo&from=2026-06&to=2026-06",
            &[("Authorization", &format!("Bearer {caseworker}"))],
            "",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["claims"].as_array().unwrap().len(), 2, "{place}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_yearly_ceiling_holds_across_concurrent_dispensings() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let (app, cat) = with_catalogue(db).await;
        let expensive = cat
            .packages
            .iter()
            .filter(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == "C08CA01"))
            .max_by_key(|p| p.price_ore)
            .unwrap();
        let pharmacist = token(&app, "farmasoyt", Role::Pharmacist, None, None);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (addr, t) = (app.addr, pharmacist.clone());
            let mut body = dispensing(&format!("tak-{i}"), &expensive.varenr, "1960-01-01");
            body["packages"] = json!(3);
            body["prescription"]["prescriber"]["hpr"] = json!(format!("{}", 1000 + i));
            tasks.push(tokio::spawn(async move {
                request(
                    addr,
                    "POST",
                    "/api/v1/pharmacy/dispensings",
                    &[("Authorization", &format!("Bearer {t}"))],
                    &body.to_string(),
                )
                .await
            }));
        }
        let mut total = 0u64;
        for t in tasks {
            let r = t.await.unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
            let a = r.json();
            assert_eq!(sum_of_lines(&a), a["price_ore"].as_u64().unwrap());
            total += a["copayment_counts_toward_ceiling_ore"].as_u64().unwrap();
        }
        assert_eq!(
            total, 327_800,
            "the ceiling is reached exactly, never passed: {place}"
        );
    }
}
