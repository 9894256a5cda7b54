//! The approval exemption over HTTP (issue 13, G1–G4), on SQLite and PostgreSQL: a pharmacy's
//! notification in force at once, refused where DMP must approve first (FEST «Må søkes», the
//! negative list); a doctor's application decided by DMP; the cannabis rule; the roles kept;
//! and the yearly counts of the report's table 1 from what was stored.

mod support;

use serde_json::{Value, json};
use server::Role;
use support::{TestDb, call, request, spawn, token};

fn form(changes: &[(&str, &str)]) -> Value {
    let mut f = json!({
        "scope": "patient",
        "patient_id": "01010012356",
        "product": "Melatonin 1 mg/ml mikstur",
        "atc": "N05CH01",
        "substance": "melatonin",
        "authorised_abroad": true,
        "quantity": 12,
        "valid_from": "2026-01-15",
        "justification": "Søvnvansker ved autismespekterforstyrrelse",
        "ground": "no_marketed_alternative",
        "why_not_marketed": "Kan ikke svelge tabletter",
        "prescriber_name": "Per Fastlege",
    });
    for (k, v) in changes {
        f[*k] = json!(v);
    }
    json!({ "fields": f })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_g4_notifications_applications_dmp_rulings_and_table_1_over_http() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let pharmacist = token(&app, "pal", Role::Pharmacist, None, None);
        let gp = token(&app, "per", Role::Prescriber, None, Some("gp"));
        let hospital = token(
            &app,
            "kari",
            Role::Prescriber,
            Some("Oslo universitetssykehus HF"),
            Some("hospital_doctor"),
        );
        let dmp = token(&app, "dag", Role::DmpCaseworker, None, None);
        let analyst = token(&app, "anna", Role::Analyst, None, None);
        let path = "/api/v1/exemptions";

        // G1: the pharmacy notifies an ordinary product: in force at once, for a year at most.
        let (s, v) = call(&app, "POST", path, &pharmacist, &form(&[])).await;
        assert_eq!(s, 201, "{place}: {v}");
        assert_eq!(v["state"], "notified");
        assert_eq!(v["assessment"]["valid_until"], "2027-01-14");
        assert_eq!(v["derived"]["filing"], "notification");
        // The list shows the number as ddmmåå *****.
        assert_eq!(v["fields"]["patient_id"], "010100*****");

        // The negative list closes the notification path (409, naming it) …
        let vaccine = form(&[("atc", "J07BB02"), ("substance", "influensavaksine")]);
        let (s, v) = call(&app, "POST", path, &pharmacist, &vaccine).await;
        assert_eq!(s, 409, "{place}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("negativlisten"),
            "{v}"
        );
        // … and the doctor applies instead; DMP decides.
        let (s, v) = call(&app, "POST", path, &gp, &vaccine).await;
        assert_eq!(s, 201, "{place}: {v}");
        assert_eq!(v["state"], "submitted");
        let (id, version) = (v["id"].as_i64().unwrap(), v["version"].as_i64().unwrap());
        let ruling = format!("{path}/{id}/ruling");
        // Only DMP rules; a refusal needs a reason; a stale version is refused.
        let (s, _) = call(
            &app,
            "POST",
            &ruling,
            &gp,
            &json!({"version": version, "ruling": "approve"}),
        )
        .await;
        assert_eq!(s, 403, "{place}");
        let (s, v) = call(
            &app,
            "POST",
            &ruling,
            &dmp,
            &json!({"version": version, "ruling": "refuse"}),
        )
        .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("reason")),
            "{place}: {v}"
        );
        let (s, _) = call(
            &app,
            "POST",
            &ruling,
            &dmp,
            &json!({"version": version + 1, "ruling": "approve"}),
        )
        .await;
        assert_eq!(s, 409, "{place}");
        let (s, v) = call(
            &app,
            "POST",
            &ruling,
            &dmp,
            &json!({"version": version, "ruling": "approve"}),
        )
        .await;
        assert_eq!(s, 200, "{place}: {v}");
        assert_eq!(v["state"], "approved");
        let (s, _) = call(
            &app,
            "POST",
            &ruling,
            &dmp,
            &json!({"version": version + 1, "ruling": "refuse", "reason": "nei"}),
        )
        .await;
        assert_eq!(s, 409, "{place}: decided once");

        // A second application, refused.
        let (_, v) = call(&app, "POST", path, &gp, &form(&[("biological", "ja")])).await;
        assert_eq!(
            v["assessment"]["dmp_reasons"][0],
            "negativlisten: biologisk legemiddel"
        );
        let (id2, v2) = (v["id"].as_i64().unwrap(), v["version"].as_i64().unwrap());
        let (s, v) = call(&app, "POST", &format!("{path}/{id2}/ruling"), &dmp,
            &json!({"version": v2, "ruling": "refuse", "reason": "Markedsført alternativ kan brukes"})).await;
        assert_eq!(
            (s, v["state"].as_str()),
            (200, Some("refused")),
            "{place}: {v}"
        );

        // G2: cannabis over 1 % THC — a GP may not apply, a hospital specialist may.
        let cannabis = form(&[
            ("atc", "N02BG10"),
            ("substance", "cannabis"),
            ("thc_percent", "10"),
        ]);
        let (s, v) = call(&app, "POST", path, &gp, &cannabis).await;
        assert_eq!(s, 403, "{place}: {v}");
        let (s, v) = call(&app, "POST", path, &hospital, &cannabis).await;
        assert_eq!(
            (s, v["state"].as_str()),
            (201, Some("submitted")),
            "{place}: {v}"
        );

        // A wrong field is named.
        let (s, v) = call(
            &app,
            "POST",
            path,
            &pharmacist,
            &form(&[("valid_until", "2027-06-01")]),
        )
        .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("valid_until")),
            "{place}: {v}"
        );
        let (s, v) = call(&app, "POST", path, &analyst, &form(&[])).await;
        assert_eq!(s, 403, "{place}: {v}");

        // Each sees what is theirs; DMP sees all.
        let (_, mine) = call(&app, "GET", path, &pharmacist, &Value::Null).await;
        assert_eq!(mine["cases"].as_array().unwrap().len(), 1, "{place}");
        let (_, all) = call(&app, "GET", path, &dmp, &Value::Null).await;
        assert_eq!(all["cases"].as_array().unwrap().len(), 4, "{place}");
        let (s, one) = call(&app, "GET", &format!("{path}/{id}"), &dmp, &Value::Null).await;
        assert_eq!(s, 200);
        assert_eq!(
            one["events"].as_array().unwrap().len(),
            2,
            "applied, then approved"
        );

        // Table 1: the two decided applications and the notification, this year; the one still
        // with DMP is not counted yet.
        let (s, t) = call(
            &app,
            "GET",
            "/api/v1/statistics/exemptions",
            &analyst,
            &Value::Null,
        )
        .await;
        assert_eq!(s, 200, "{place}: {t}");
        let year = chrono::Local::now()
            .format("%Y")
            .to_string()
            .parse::<i64>()
            .unwrap();
        assert_eq!(
            t["years"],
            json!([{"year": year, "applications": 2, "notifications": 1, "total": 3}]),
            "{place}"
        );
        let r = request(
            app.addr,
            "GET",
            "/api/v1/statistics/exemptions?format=csv",
            &[("Authorization", &format!("Bearer {analyst}"))],
            "",
        )
        .await;
        assert_eq!(
            r.body,
            format!("year,applications,notifications,total\n{year},2,1,3\n")
        );
        let (s, _) = call(
            &app,
            "GET",
            "/api/v1/statistics/exemptions",
            &pharmacist,
            &Value::Null,
        )
        .await;
        assert_eq!(s, 403);
    }
}
