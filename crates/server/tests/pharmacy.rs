//! Pharmacy contract v1 over HTTP, on SQLite and PostgreSQL: a dispensing is priced from FEST,
//! split between payer and patient to the øre, stored exactly once by its id, and the yearly
//! ceiling holds across dispensings.

mod support;

use serde_json::{Value, json};
use server::Role;
use support::{TestApp, TestDb, request, spawn, token};

async fn with_catalogue(db: TestDb) -> (TestApp, fest::Catalogue) {
    with_packages(db, 400).await
}

async fn with_packages(db: TestDb, packages: usize) -> (TestApp, fest::Catalogue) {
    let mut bytes = Vec::new();
    fest::generate::write(
        &mut bytes,
        &fest::generate::Options {
            packages,
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
        // So do a minimum pensioner and a prescription for an occupational injury (§ 8).
        let mut pensioner = dispensing("d-pension", &amlodipin.varenr, "1950-03-01");
        pensioner["patient"]["minimum_pensioner"] = json!(true);
        let (_, pension) = send(&app, &pharmacist, &pensioner).await;
        assert_eq!(pension["copayment_ore"], 0, "{pension}");
        assert_eq!(pension["exemption"], "minstepensjonist: ingen egenandel");
        let mut injured = dispensing("d-injury", &amlodipin.varenr, "1980-03-01");
        injured["prescription"]["occupational_injury"] = json!(true);
        let (_, injury) = send(&app, &pharmacist, &injured).await;
        assert_eq!(injury["copayment_ore"], 0, "{injury}");
        assert_eq!(sum_of_lines(&injury), price);

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
        assert_eq!(r.json()["claims"].as_array().unwrap().len(), 4, "{place}");
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

/// A § 3 opioid decision as a GP gets it at once (B5: non-cancer pain, up to 100 mg OMEQ).
async fn grant_opioid(app: &TestApp, patient: &str, atc: &str, substance: &str, omeq: u32) {
    let gp = token(app, "fastlege", Role::Prescriber, None, Some("gp"));
    let fields = json!({
        "patient_id_kind": "fnr", "patient_id": patient, "member": true, "atc": atc,
        "substance": substance, "authorisation": "marketed", "prescription_group": "A",
        "diagnosis": "Kroniske ryggsmerter", "on_label": true, "severity": "serious",
        "months_per_year": 12, "previous_treatment": "tried_failed",
        "previous_treatment_details": "Paracetamol og NSAID uten effekt",
        "omeq": omeq.to_string(), "pain": "non_cancer"
    });
    let r = request(
        app.addr,
        "POST",
        "/api/v1/helfo/applications",
        &[("Authorization", &format!("Bearer {gp}"))],
        &json!({ "fields": fields }).to_string(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["assessment"]["outcome"], "granted", "{}", r.body);
}

fn refusal_codes(answer: &Value) -> Vec<String> {
    answer["refusals"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b5_an_opioid_decision_covers_the_patients_opioids_at_its_daily_dose() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let (app, cat) = with_catalogue(db).await;
        let pharmacist = token(&app, "farmasoyt", Role::Pharmacist, None, None);
        let oxycodone = cat
            .packages
            .iter()
            .find(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == "N02AA05"))
            .unwrap();
        // The decisions are made today and valid from today: the dispensings are today's.
        let today = server::today();
        let opioid = |id: &str, dose: Value| {
            let mut b = dispensing(id, &oxycodone.varenr, "1972-09-13");
            b["date"] = json!(today.to_string());
            b["prescription"]["issued"] = json!(today.to_string());
            b["prescription"]["valid_until"] = json!(today.plus_months(12).unwrap().to_string());
            b["prescription"]["refund_code"] = json!("-71");
            if !dose.is_null() {
                b["prescription"]["daily_dose"] = dose;
            }
            b
        };
        let mg = |mg: u32| json!({"amount": mg, "unit": "mg_per_day"});

        // No decision yet: refused with B3, nothing billed.
        let (status, none) = send(&app, &pharmacist, &opioid("o-0", mg(40))).await;
        assert_eq!(status, 201, "{none}");
        assert_eq!(none["accepted"], false, "{place}: {none}");
        assert_eq!(refusal_codes(&none), ["no_helfo_decision"], "{none}");
        assert!(none["claim_ids"].as_array().unwrap().is_empty());

        // Two decisions, for oxycodone (60 mg OMEQ) and then, a higher dose, for morphine (90):
        // the highest applies, and the morphine decision covers oxycodone too.
        grant_opioid(&app, "13097248022", "N02AA05", "oksykodon", 60).await;
        grant_opioid(&app, "13097248022", "N02AA01", "morfin", 90).await;
        // A third, for another opioid at a dose already covered, is a second application: stopped.
        let gp = token(&app, "fastlege", Role::Prescriber, None, Some("gp"));
        let again = request(
            app.addr,
            "POST",
            "/api/v1/helfo/applications",
            &[("Authorization", &format!("Bearer {gp}"))],
            &json!({"fields": {
                "patient_id_kind": "fnr", "patient_id": "13097248022", "member": true,
                "atc": "N02AX02", "substance": "tramadol", "authorisation": "marketed",
                "prescription_group": "A", "diagnosis": "Kroniske ryggsmerter", "on_label": true,
                "severity": "serious", "months_per_year": 12, "previous_treatment": "tried_failed",
                "previous_treatment_details": "NSAID uten effekt", "omeq": "30", "pain": "non_cancer"
            }})
            .to_string(),
        )
        .await;
        assert_eq!(again.status, 422, "{place}: {}", again.body);
        assert!(again.body.contains("allerede sak"), "{}", again.body);
        // 40 mg oxycodone a day × 1.5 = 60 mg OMEQ: covered.
        let (_, ok) = send(&app, &pharmacist, &opioid("o-1", mg(40))).await;
        assert_eq!(ok["accepted"], true, "{place}: {ok}");
        assert_eq!(ok["daily_dose_omeq"], 60.0, "{ok}");
        assert_eq!(ok["scheme"], "s3", "{ok}");
        // 60 mg × 1.5 = 90: up to the morphine decision's dose, covered.
        let (_, ok) = send(&app, &pharmacist, &opioid("o-2", mg(60))).await;
        assert_eq!(ok["accepted"], true, "{ok}");
        // 80 mg × 1.5 = 120: above every decision; not on blue.
        let (_, over) = send(&app, &pharmacist, &opioid("o-3", mg(80))).await;
        assert_eq!(over["accepted"], false, "{over}");
        assert!(
            over["refusals"][0]["message"]
                .as_str()
                .unwrap()
                .contains("90 mg OMEQ"),
            "{over}"
        );
        // Without a dose the decision cannot be checked.
        let (_, no_dose) = send(&app, &pharmacist, &opioid("o-4", Value::Null)).await;
        assert_eq!(
            refusal_codes(&no_dose),
            ["opioid_dose_missing"],
            "{no_dose}"
        );
        // A stated OMEQ that disagrees with the table is bad input, named.
        let mut both = opioid("o-5", mg(40));
        both["prescription"]["daily_dose_omeq"] = json!(40);
        let (status, err) = send(&app, &pharmacist, &both).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], "prescription.daily_dose_omeq");
        let mut unit = opioid("o-6", json!({"amount": 10, "unit": "mg"}));
        unit["dispensing_id"] = json!("o-6");
        let (status, err) = send(&app, &pharmacist, &unit).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("prescription.daily_dose.unit"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b7_substitution_and_the_limits_of_a_blue_prescription() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let (app, cat) = with_catalogue(db).await;
        let pharmacist = token(&app, "farmasoyt", Role::Pharmacist, None, None);
        let day = domain::Date::parse("2026-06-01").unwrap();
        let aup = |p: &fest::model::Package| p.price_on(&fest::model::PriceKind::Aup, day);
        // A substitution group with two packages at different prices, on § 2 (amlodipine).
        let group: Vec<&fest::model::Package> = cat
            .packages
            .iter()
            .filter(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == "C08CA01"))
            .filter(|p| p.medicine.substitution_group_on(day).is_some())
            .collect();
        let (dear, cheap) = group
            .iter()
            .flat_map(|a| group.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| {
                a.medicine.substitution_group_on(day) == b.medicine.substitution_group_on(day)
                    && aup(a) > aup(b)
            })
            .max_by_key(|(a, b)| aup(a).unwrap() - aup(b).unwrap())
            .expect("two packages of one group at different prices");
        let (dear_price, cheap_price) = (aup(dear).unwrap(), aup(cheap).unwrap());
        let offer = |id: &str, refused: bool, reserved: Option<&str>| {
            let mut b = dispensing(id, &dear.varenr, "1960-01-01");
            b["substitution"] = json!({"offered_varenr": cheap.varenr, "patient_refused": refused});
            if let Some(r) = reserved {
                b["prescription"]["reserved_against_substitution"] = json!(r);
            }
            b
        };

        // Accepted: the cheaper package is handed out.
        let (_, took) = send(&app, &pharmacist, &offer("s-1", false, None)).await;
        assert_eq!(
            took["dispensed_varenr"],
            cheap.varenr.as_str(),
            "{place}: {took}"
        );
        assert_eq!(took["price_ore"], cheap_price);
        assert_eq!(took["cheapest_varenr"], cheap.varenr.as_str(), "{took}");

        // Refused without the doctor's reservation: co-payment on the cheaper package, plus the
        // difference, which does not count toward the ceiling.
        let (_, refused) = send(&app, &pharmacist, &offer("s-2", true, None)).await;
        assert_eq!(
            refused["dispensed_varenr"],
            dear.varenr.as_str(),
            "{refused}"
        );
        assert_eq!(refused["price_ore"], dear_price);
        let difference = dear_price - cheap_price;
        assert_eq!(refused["difference_ore"], difference, "{refused}");
        let copay_on_cheap = (cheap_price * 60 / 100).min(40_000);
        assert_eq!(
            refused["copayment_counts_toward_ceiling_ore"],
            copay_on_cheap
        );
        assert_eq!(sum_of_lines(&refused), dear_price, "{refused}");

        // With the doctor's reservation: the prescribed package, no difference.
        let (_, reserved) = send(&app, &pharmacist, &offer("s-3", true, Some("excipients"))).await;
        assert_eq!(reserved["dispensed_varenr"], dear.varenr.as_str());
        assert_eq!(reserved["difference_ore"], 0, "{reserved}");
        assert_eq!(
            reserved["copayment_ore"],
            (dear_price * 60 / 100).min(40_000)
        );

        // More than three months' supply on blue, and a blue prescription past its year.
        let mut long = dispensing("s-4", &dear.varenr, "1960-01-01");
        long["supply_days"] = json!(120);
        let (_, too_much) = send(&app, &pharmacist, &long).await;
        assert_eq!(
            refusal_codes(&too_much),
            ["more_than_three_months"],
            "{too_much}"
        );
        assert!(too_much["claim_ids"].as_array().unwrap().is_empty());
        let mut old = dispensing("s-5", &dear.varenr, "1960-01-01");
        old["prescription"]["issued"] = json!("2025-05-01");
        let (_, stale) = send(&app, &pharmacist, &old).await;
        assert_eq!(refusal_codes(&stale), ["blue_older_than_a_year"], "{stale}");
        assert_eq!(stale["refusals"][0]["rule"], "F6");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_an_unregistered_product_is_dispensed_only_under_its_approval_exemption() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        // Large enough to hold both kinds of unregistered product.
        let (app, cat) = with_packages(db, 2000).await;
        let pharmacist = token(&app, "farmasoyt", Role::Pharmacist, None, None);
        let unregistered = |kind: &str| {
            cat.packages
                .iter()
                .find(|p| {
                    p.medicine
                        .preparation_type
                        .as_ref()
                        .is_some_and(|t| t.code == "11")
                        && p.medicine
                            .exemption_application
                            .as_ref()
                            .is_some_and(|t| t.code == kind)
                })
                .unwrap_or_else(|| panic!("an unregistered package ({kind}) in the catalogue"))
        };
        let white = |id: &str, varenr: &str, exemption: Option<Value>| {
            let mut b = dispensing(id, varenr, "1960-01-01");
            b["prescription"]["form"] = json!("white");
            b["prescription"]
                .as_object_mut()
                .unwrap()
                .remove("refund_code");
            if let Some(e) = exemption {
                b["approval_exemption"] = e;
            }
            b
        };
        // «Apotek vurderer»: the pharmacy's notification is enough, but there must be one.
        let assess = unregistered("2");
        let (_, none) = send(&app, &pharmacist, &white("g-1", &assess.varenr, None)).await;
        assert_eq!(
            refusal_codes(&none),
            ["approval_exemption_missing"],
            "{place}: {none}"
        );
        assert_eq!(none["refusals"][0]["rule"], "G1");
        let note = json!({"kind": "notification", "reference": "melding-2026-0001"});
        let (_, ok) = send(
            &app,
            &pharmacist,
            &white("g-2", &assess.varenr, Some(note.clone())),
        )
        .await;
        assert_eq!(ok["accepted"], true, "{ok}");
        // «Må søkes»: only DMP's approval.
        let apply = unregistered("3");
        let (_, not_enough) =
            send(&app, &pharmacist, &white("g-3", &apply.varenr, Some(note))).await;
        assert_eq!(
            refusal_codes(&not_enough),
            ["dmp_approval_required"],
            "{not_enough}"
        );
        let approval = json!({"kind": "dmp_approval", "reference": "24/01234"});
        let (_, ok) = send(
            &app,
            &pharmacist,
            &white("g-4", &apply.varenr, Some(approval)),
        )
        .await;
        assert_eq!(ok["accepted"], true, "{ok}");
        // A kind the contract does not know is named.
        let odd = json!({"kind": "verbal", "reference": "x"});
        let (status, err) = send(&app, &pharmacist, &white("g-5", &apply.varenr, Some(odd))).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("approval_exemption.kind"))
        );
    }
}

/// G3 at the counter: when a product with MT replaces the unregistered one, the pharmacy's
/// notification carries it through the transition (with a warning) and not a day after; DMP's
/// approval still does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g3_a_replaced_unregistered_product_on_a_notification_only_through_the_transition() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let mut bytes = Vec::new();
        fest::generate::write(
            &mut bytes,
            &fest::generate::Options {
                packages: 2000,
                ..Default::default()
            },
        )
        .unwrap();
        let cat = fest::parse(&bytes[..], |_| {}).unwrap();
        let assess = cat
            .packages
            .iter()
            .find(|p| {
                p.medicine
                    .preparation_type
                    .as_ref()
                    .is_some_and(|t| t.code == "11")
                    && p.medicine
                        .exemption_application
                        .as_ref()
                        .is_some_and(|t| t.code == "2")
            })
            .expect("an unregistered package the pharmacy assesses");
        let atc = assess.medicine.atc.as_ref().unwrap().code.clone();
        // Marketed from 1 March 2026 for 90 days: the last day is 29 May.
        let g3 = format!(
            "rule = \"G3\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\nmax_transition_days = 90\n\
             [[period.replacement]]\nmarketed = \"Erstatter MT\"\natc = \"{atc}\"\nmarketed_from = 2026-03-01\ntransition_days = 90\nsource = \"test\"\n"
        );
        let mut files: Vec<(&str, &str)> = ruleset::RuleSet::embedded_files()
            .iter()
            .copied()
            .filter(|(p, _)| *p != "g3-transition.toml")
            .collect();
        files.push(("g3-transition.toml", &g3));
        let rules = std::sync::Arc::new(ruleset::RuleSet::load(files).unwrap());
        let app = support::spawn_with(db, |c| c.rules = rules).await;
        app.store
            .import_catalogue(&cat, "test", "test.xml", "2026-11-30T10:00:00Z")
            .await
            .unwrap();
        let pharmacist = token(&app, "farmasoyt", Role::Pharmacist, None, None);
        let on = |id: &str, date: &str, kind: &str| {
            let mut b = dispensing(id, &assess.varenr, "1960-01-01");
            b["date"] = json!(date);
            b["prescription"]["form"] = json!("white");
            b["prescription"]["issued"] = json!("2026-05-01");
            b["prescription"]
                .as_object_mut()
                .unwrap()
                .remove("refund_code");
            b["approval_exemption"] = json!({"kind": kind, "reference": format!("ref-{id}")});
            b
        };
        let (_, last_day) = send(&app, &pharmacist, &on("t-1", "2026-05-29", "notification")).await;
        assert_eq!(last_day["accepted"], true, "{place}: {last_day}");
        assert!(
            last_day.to_string().contains("overgangsperiode"),
            "{last_day}"
        );
        let (_, after) = send(&app, &pharmacist, &on("t-2", "2026-05-30", "notification")).await;
        assert_eq!(
            refusal_codes(&after),
            ["transition_ended"],
            "{place}: {after}"
        );
        assert_eq!(after["refusals"][0]["rule"], "G3");
        let (_, approved) = send(&app, &pharmacist, &on("t-3", "2026-05-30", "dmp_approval")).await;
        assert_eq!(approved["accepted"], true, "{place}: {approved}");
    }
}
