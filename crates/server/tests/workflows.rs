//! The case workflows through the JSON API, over real HTTP, on SQLite and PostgreSQL: the whole
//! off-label chain (O2) with its second trust; each role refused what it may not do; a stale
//! version refused without writing; § 3 applications granted, refused and sent to a caseworker
//! (B3–B5); dispensing checked against the decision; the overviews as CSV and XLSX (O4).

mod support;

use serde_json::{Value, json};
use server::Role;
use support::{TestApp, TestDb, http, spawn, token};

const OUS: &str = "Oslo universitetssykehus HF";
const BERGEN: &str = "Helse Bergen HF";

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, text) = http(app.addr, method, path, Some(token), &body.to_string()).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn off_label_fields() -> Value {
    json!({
        "scope": "patient", "patient_ref": "J-1", "clinic": "Kreftklinikken", "home_trust": BERGEN,
        "atc": "L01FF02", "substance": "pembrolizumab", "use_kind": "off_label",
        "indication": "Sarkom", "setting": "patient_administered", "nye_metoder": "none",
        "documentation": "phase_ii", "references": "Smith 2024", "ecog": 1,
        "biomarker_required": true, "biomarker_demonstrated": true, "safety": "kjent",
        "uncertainty": "moderat", "consequences": "progresjon", "cost_estimate": "850000",
        "consent_recorded": true, "plan_purpose": "livsforlengelse", "plan_dosing": "200 mg",
        "evaluation_dates": ["2099-03-01", "2099-06-01"], "stop_rules": ["Progresjon", "Toksisitet"]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o2_the_off_label_chain_runs_by_role_and_refuses_the_rest() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let doctor = token(
            &app,
            "lege",
            Role::Prescriber,
            Some(OUS),
            Some("hospital_doctor"),
        );
        let other_doctor = token(
            &app,
            "annen",
            Role::Prescriber,
            Some(OUS),
            Some("hospital_doctor"),
        );
        let head = token(&app, "kl", Role::ClinicHead, Some(OUS), None);
        let head_bergen = token(&app, "kl2", Role::ClinicHead, Some(BERGEN), None);
        let head_third = token(
            &app,
            "kl3",
            Role::ClinicHead,
            Some("Helse Stavanger HF"),
            None,
        );
        let director = token(&app, "fd", Role::MedicalDirector, Some(OUS), None);
        let director_bergen = token(&app, "fd2", Role::MedicalDirector, Some(BERGEN), None);
        let pharmacist = token(&app, "apo", Role::Pharmacist, None, None);

        // Bad input is named per field (O3), and nothing is stored.
        let mut bad = off_label_fields();
        bad["ecog"] = json!(3);
        bad["consent_recorded"] = json!(false);
        let (status, body) = call(
            &app,
            "POST",
            "/api/v1/off-label",
            &doctor,
            json!({"fields": bad, "submit": true}),
        )
        .await;
        assert_eq!(status, 422, "{place}: {body}");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["ecog_justification", "consent_recorded"],
            "{place}"
        );

        // The doctor files; the engine fills in who pays and what must happen (O1, O5).
        let (status, case) = call(
            &app,
            "POST",
            "/api/v1/off-label",
            &doctor,
            json!({"fields": off_label_fields(), "submit": true}),
        )
        .await;
        assert_eq!(status, 201, "{place}: {case}");
        let id = case["id"].as_i64().unwrap();
        assert_eq!(case["state"], "submitted");
        assert_eq!(case["derived"]["payer"], "hf");
        assert_eq!(case["derived"]["prescription"], "white_note");
        assert!(
            case["derived"]["actions"]
                .as_array()
                .unwrap()
                .contains(&json!("second_hf_approval"))
        );
        let path = format!("/api/v1/off-label/{id}/moves");
        let mv = |m: &str, v: i64| json!({"version": v, "move": m, "reason": "faglig vurdert"});

        // Who may not: the pharmacist at the role gate; the doctor, a clinic head of another
        // trust, the director before the recommendation.
        assert_eq!(
            call(&app, "POST", &path, &pharmacist, mv("recommend", 1))
                .await
                .0,
            403,
            "{place}"
        );
        assert_eq!(
            call(&app, "POST", &path, &doctor, mv("recommend", 1))
                .await
                .0,
            403,
            "{place}"
        );
        assert_eq!(
            call(&app, "POST", &path, &head_bergen, mv("recommend", 1))
                .await
                .0,
            403,
            "{place}: the patient's trust sees it, but recommends nothing"
        );
        assert_eq!(
            call(&app, "POST", &path, &head_third, mv("recommend", 1))
                .await
                .0,
            404,
            "{place}: a third trust does not see it"
        );
        assert_eq!(
            call(&app, "POST", &path, &director, mv("approve", 1))
                .await
                .0,
            409,
            "{place}"
        );
        assert_eq!(
            call(&app, "POST", &path, &other_doctor, mv("withdraw", 1))
                .await
                .0,
            403,
            "{place}"
        );
        // A reason is required.
        let (status, body) = call(
            &app,
            "POST",
            &path,
            &head,
            json!({"version": 1, "move": "recommend", "reason": " "}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("reason")),
            "{place}"
        );

        // The chain: clinic head → medical director → the patient's trust.
        let (status, case) = call(&app, "POST", &path, &head, mv("recommend", 1)).await;
        assert_eq!(
            (status, case["state"].as_str()),
            (200, Some("recommended")),
            "{place}: {case}"
        );
        // A stale form (version 1) is refused and writes nothing.
        let (status, body) = call(&app, "POST", &path, &head, mv("return", 1)).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (409, Some("version")),
            "{place}: {body}"
        );
        let (status, case) = call(&app, "POST", &path, &director, mv("approve", 2)).await;
        assert_eq!(
            (status, case["state"].as_str()),
            (200, Some("awaiting_home_trust")),
            "{place}"
        );
        assert_eq!(
            call(&app, "POST", &path, &director, mv("approve", 3))
                .await
                .0,
            403,
            "{place}: not the home trust"
        );
        let (status, case) = call(&app, "POST", &path, &director_bergen, mv("approve", 3)).await;
        assert_eq!(
            (status, case["state"].as_str()),
            (200, Some("approved")),
            "{place}: {case}"
        );
        let events = case["events"].as_array().unwrap();
        assert_eq!(events.len(), 4, "{place}");
        assert!(
            events[3]["record"]
                .as_str()
                .unwrap()
                .starts_with("Godkjent av fd2 (fagdirektør, Helse Bergen HF)"),
            "{place}"
        );

        // Evaluation at the plan's dates: a stop rule fires.
        let stop = json!({"version": 4, "move": "evaluate_stop", "reason": "CT viser progresjon", "stop_rule": 0});
        let (status, case) = call(&app, "POST", &path, &doctor, stop).await;
        assert_eq!(
            (status, case["state"].as_str()),
            (200, Some("stopped")),
            "{place}: {case}"
        );

        // Every change is in the audit trail, without patient identifiers.
        let v = app.store.verify_audit().await.unwrap();
        assert_eq!(v.broken, None, "{place}");
        let trail = app.store.audit_after(0, 100).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|r| r.content.action.as_str()).collect();
        assert!(
            actions.contains(&"case:off_label:approve"),
            "{place}: {actions:?}"
        );
        assert!(
            trail.iter().all(|r| !r.content.request.contains("J-1")),
            "{place}"
        );
    }
}

fn helfo_fields(id: &str) -> Value {
    json!({
        "patient_id_kind": "fnr", "patient_id": id, "member": true, "atc": "R03DC03",
        "substance": "montelukast", "authorisation": "marketed", "prescription_group": "C",
        "diagnosis": "Astma", "on_label": true, "severity": "serious", "months_per_year": 12,
        "previous_treatment": "tried_failed", "previous_treatment_details": "ICS uten effekt"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b3_applications_are_decided_at_once_or_queued_for_a_caseworker() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let gp = token(&app, "fastlege", Role::Prescriber, None, Some("gp"));
        let caseworker = token(&app, "helfo", Role::HelfoCaseworker, None, None);
        let pharmacist = token(&app, "apo", Role::Pharmacist, None, None);
        let apply = |fields: Value| json!({ "fields": fields });

        // Granted at once, without time limit (B3).
        let (status, granted) = call(
            &app,
            "POST",
            "/api/v1/helfo/applications",
            &gp,
            apply(helfo_fields("01010012356")),
        )
        .await;
        assert_eq!(status, 201, "{place}: {granted}");
        assert_eq!(granted["assessment"]["outcome"], "granted");
        // The look-up now finds it, and a second application is stopped.
        let (_, found) = call(
            &app,
            "POST",
            "/api/v1/helfo/lookup",
            &gp,
            apply(helfo_fields("01010012356")),
        )
        .await;
        assert_eq!(
            found["existing"].as_array().unwrap().len(),
            1,
            "{place}: {found}"
        );
        assert!(found["applicant_warning"].is_null(), "{place}: {found}");
        // B4 at the look-up: a GP is told before filling in the form that Wegovy is for a
        // doctor at a public hospital to apply for.
        let mut wegovy = helfo_fields("01010012356");
        wegovy["atc"] = json!("A10BJ06");
        wegovy["substance"] = json!("semaglutid");
        wegovy["brand"] = json!("Wegovy FlexTouch");
        let (status, warned) = call(
            &app,
            "POST",
            "/api/v1/helfo/lookup",
            &gp,
            apply(wegovy.clone()),
        )
        .await;
        assert_eq!(status, 200, "{place}: {warned}");
        // A misspelt field, a stray key or a submit that is not true/false is named, never
        // dropped (the case would be filed without it).
        let mut misspelt = wegovy.clone();
        misspelt["diagnoses"] = json!("fedme");
        let mut stray = apply(wegovy.clone());
        stray["sumbit"] = json!(true);
        let mut odd_submit = apply(wegovy);
        odd_submit["submit"] = json!("ja");
        for (body, field) in [
            (apply(misspelt), "fields.diagnoses"),
            (stray, "sumbit"),
            (odd_submit, "submit"),
        ] {
            let (status, refused) = call(&app, "POST", "/api/v1/helfo/lookup", &gp, body).await;
            assert_eq!(status, 422, "{place}: {refused}");
            assert_eq!(refused["error"]["field"], field, "{place}: {refused}");
        }
        assert!(
            warned["applicant_warning"]
                .as_str()
                .is_some_and(|w| w.contains("offentlig sykehus")),
            "{place}: {warned}"
        );
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/helfo/applications",
            &gp,
            apply(helfo_fields("01010012356")),
        )
        .await;
        assert_eq!(status, 422, "{place}");
        // The pharmacy dispenses against it.
        let (_, cover) = call(
            &app,
            "POST",
            "/api/v1/helfo/coverage",
            &pharmacist,
            json!({"patient_id": "01010012356", "atc": "R03DC03"}),
        )
        .await;
        assert_eq!(cover["covered"], true, "{place}: {cover}");
        let (_, cover) = call(
            &app,
            "POST",
            "/api/v1/helfo/coverage",
            &pharmacist,
            json!({"patient_id": "15058012359", "atc": "R03DC03"}),
        )
        .await;
        assert_eq!(cover["covered"], false, "{place}");
        // A wrongly typed date or dose is named, not passed over (found by schemathesis).
        for (field, body) in [
            (
                "date",
                json!({"patient_id": "01010012356", "atc": "R03DC03", "date": true}),
            ),
            (
                "omeq",
                json!({"patient_id": "01010012356", "atc": "R03DC03", "omeq": "mye"}),
            ),
            (
                "note",
                json!({"patient_id": "01010012356", "atc": "R03DC03", "note": "ukjent felt"}),
            ),
            (
                "patient_id",
                json!({"patient_id": "01010012357", "atc": "R03DC03"}),
            ),
        ] {
            let (status, refused) =
                call(&app, "POST", "/api/v1/helfo/coverage", &pharmacist, body).await;
            assert_eq!(status, 422, "{place}: {refused}");
            assert_eq!(refused["error"]["field"], field, "{place}");
        }

        // Refused at once, with the rule.
        let mut f = helfo_fields("15058012359");
        f["severity"] = json!("not_serious");
        let (status, refused) =
            call(&app, "POST", "/api/v1/helfo/applications", &gp, apply(f)).await;
        assert_eq!(
            (status, refused["assessment"]["outcome"].as_str()),
            (201, Some("refused")),
            "{place}"
        );
        assert_eq!(refused["assessment"]["rule"], "B3");
        assert!(
            refused["assessment"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("påklages innen seks uker")),
            "{place}: a refusal says how to appeal: {refused}"
        );

        // The trust pays: nothing stored (F3).
        let mut f = helfo_fields("12037812380");
        f["atc"] = json!("H02AB13");
        f["substance"] = json!("deflazacort");
        let (status, listed) =
            call(&app, "POST", "/api/v1/helfo/applications", &gp, apply(f)).await;
        assert_eq!(
            (status, listed["assessment"]["rule"].as_str()),
            (200, Some("F3")),
            "{place}: {listed}"
        );

        // Sent to manual processing, then decided by a caseworker.
        let mut f = helfo_fields("12037812380");
        f["severity"] = json!("risk_factors");
        let (status, manual) =
            call(&app, "POST", "/api/v1/helfo/applications", &gp, apply(f)).await;
        assert_eq!(
            (status, manual["state"].as_str()),
            (201, Some("manual")),
            "{place}: {manual}"
        );
        let id = manual["id"].as_i64().unwrap();
        let (_, queue) = call(&app, "GET", "/api/v1/helfo/queue", &caseworker, Value::Null).await;
        assert_eq!(queue["cases"].as_array().unwrap().len(), 1, "{place}");
        let ruling = format!("/api/v1/helfo/applications/{id}/ruling");
        // The caseworker asks for more information; the applicant — and only they — answers,
        // and the case is back in the queue with the answer on record.
        let ask = json!({"version": 1, "ruling": "more_information", "deadline": "31.12.2099", "reason": "Hvilke risikofaktorer er målt, og når?"});
        let (status, asked) = call(&app, "POST", &ruling, &caseworker, ask).await;
        assert_eq!(
            (
                status,
                asked["state"].as_str(),
                asked["derived"]["information_deadline"].as_str()
            ),
            (200, Some("more_information"), Some("2099-12-31")),
            "{place}: {asked}"
        );
        let (_, queue) = call(&app, "GET", "/api/v1/helfo/queue", &caseworker, Value::Null).await;
        assert_eq!(
            queue["cases"].as_array().unwrap().len(),
            1,
            "{place}: still in the queue"
        );
        let answer = format!("/api/v1/helfo/applications/{id}/answer");
        let (status, _) = call(
            &app,
            "POST",
            &answer,
            &caseworker,
            json!({"version": 2, "answer": "x"}),
        )
        .await;
        assert_eq!(status, 403, "{place}: only the applicant answers");
        let (status, empty) = call(
            &app,
            "POST",
            &answer,
            &gp,
            json!({"version": 2, "answer": " "}),
        )
        .await;
        assert_eq!(
            (status, empty["error"]["field"].as_str()),
            (422, Some("answer")),
            "{place}"
        );
        let (status, answered) = call(
            &app,
            "POST",
            &answer,
            &gp,
            json!({"version": 2, "answer": "LDL 6,1 målt 03.11.2026; BT 165/100."}),
        )
        .await;
        assert_eq!(
            (status, answered["state"].as_str()),
            (200, Some("manual")),
            "{place}: {answered}"
        );
        assert!(
            answered["events"].to_string().contains("LDL 6,1"),
            "{place}: the answer is on record"
        );
        let grant = json!({"version": 3, "ruling": "grant", "valid_until": "2099-12-31", "reason": "Risikofaktorene er godt dokumentert"});
        assert_eq!(
            call(&app, "POST", &ruling, &gp, grant.clone()).await.0,
            403,
            "{place}: a doctor cannot decide"
        );
        let (status, decided) = call(&app, "POST", &ruling, &caseworker, grant.clone()).await;
        assert_eq!(
            (status, decided["state"].as_str()),
            (200, Some("granted")),
            "{place}: {decided}"
        );
        assert_eq!(
            call(&app, "POST", &ruling, &caseworker, grant).await.0,
            409,
            "{place}: stale / decided"
        );

        // The paper path for a patient without an identity number.
        let mut f = helfo_fields("");
        f["patient_id_kind"] = json!("none");
        f["patient_name"] = json!("Ana Testesen");
        f["birth_date"] = json!("1980-05-15");
        let (status, refused) = call(
            &app,
            "POST",
            "/api/v1/helfo/applications",
            &gp,
            apply(f.clone()),
        )
        .await;
        assert_eq!(
            (status, refused["error"]["field"].as_str()),
            (422, Some("prescriber_hpr")),
            "{place}: the paper needs the HPR number: {refused}"
        );
        f["prescriber_hpr"] = json!("9144889");
        let (status, paper) = call(&app, "POST", "/api/v1/helfo/applications", &gp, apply(f)).await;
        assert_eq!(
            (status, paper["state"].as_str()),
            (201, Some("paper")),
            "{place}: {paper}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o4_overviews_export_as_csv_and_xlsx() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let doctor = token(
            &app,
            "lege",
            Role::Prescriber,
            Some(OUS),
            Some("hospital_doctor"),
        );
        let analyst = token(&app, "ana", Role::Analyst, None, None);
        let mut fields = off_label_fields();
        fields["home_trust"] = Value::Null;
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/off-label",
            &doctor,
            json!({"fields": fields, "submit": true}),
        )
        .await;
        assert_eq!(status, 201, "{place}");
        let (status, csv) = http(
            app.addr,
            "GET",
            "/api/v1/overviews/soknader?format=csv",
            Some(&analyst),
            "",
        )
        .await;
        assert_eq!(status, 200, "{place}");
        assert!(
            csv.starts_with("sakstype,status,alder,antall\r\n"),
            "{place}: {csv}"
        );
        assert!(
            csv.contains("off-label (HF),sendt til klinikkleder,under 7 dager,1"),
            "{place}: {csv}"
        );
        let (status, xlsx) = http(
            app.addr,
            "GET",
            "/api/v1/overviews/kostnader?format=xlsx",
            Some(&analyst),
            "",
        )
        .await;
        assert_eq!(status, 200, "{place}");
        assert!(xlsx.starts_with("PK"), "{place}: an XLSX file is a zip");
        let (status, body) = http(
            app.addr,
            "GET",
            "/api/v1/overviews/kostnader?period=week",
            Some(&analyst),
            "",
        )
        .await;
        assert_eq!(status, 422, "{place}: {body}");
        // Every overview reads its parameters: a wrong one is named even where it is not used.
        let (status, body) = http(
            app.addr,
            "GET",
            "/api/v1/overviews/utproving?from=igår",
            Some(&analyst),
            "",
        )
        .await;
        assert_eq!(status, 422, "{place}: {body}");
        assert!(body.contains("\"from\""), "{place}: {body}");
        assert_eq!(
            http(
                app.addr,
                "GET",
                "/api/v1/overviews/soknader",
                Some(&doctor),
                ""
            )
            .await
            .0,
            403,
            "{place}"
        );
        // A trust's clinic head sees the trust's cases; another trust's sees none of them.
        let head = |trust| token(&app, "leder", Role::ClinicHead, Some(trust), None);
        for (trust, expected) in [(OUS, true), (BERGEN, false)] {
            let (status, csv) = http(
                app.addr,
                "GET",
                "/api/v1/overviews/soknader?format=csv",
                Some(&head(trust)),
                "",
            )
            .await;
            assert_eq!(status, 200, "{place}");
            assert_eq!(
                csv.contains("sendt til klinikkleder"),
                expected,
                "{place}, {trust}: {csv}"
            );
        }
    }
}
