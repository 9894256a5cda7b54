//! The service over real HTTP on loopback, on SQLite and PostgreSQL: every endpoint against
//! every role (and no token, an expired one, a wrong issuer, a wrong signature); bad input; and
//! the audit trail of what was served.

mod support;

use server::auth::{Claims, LOCAL_AUDIENCE, LOCAL_ISSUER};
use server::{ENDPOINTS, LocalKey, Role};
use support::{TestDb, assert_valid_cards, http, spawn};

fn claims(role: Role, now: i64) -> Claims {
    Claims {
        sub: format!("test:{}", role.code()),
        name: None,
        iss: LOCAL_ISSUER.into(),
        aud: LOCAL_AUDIENCE.into(),
        exp: now + 3600,
        iat: now,
        nbf: None,
        cnf: None,
        roles: vec![role.code().into()],
        role: None,
        prescriber_role: None,
        trust: None,
        scope: None,
        other: Default::default(),
    }
}

const DECIDE: &str = r#"{"date":"2025-01-15","drug":{"atc":"H02AB13","substance":"deflazacort"},"prescriber":{"role":"hospital_doctor"}}"#;
const DISPENSE: &str = r#"{"date":"2025-01-20","drug":{"atc":"M01CC01","substance":"penicillamin"},"prescription":{"form":"blue","issued":"2024-10-01","valid_until":"2025-10-01"}}"#;

/// A CDS Hooks 2.0 request in the specification's shape: a draft MedicationRequest coded with
/// ATC, and the patient and practitioner role prefetched.
/// A GP's atorvastatin order as `kind` (`order-sign` or `order-select`), as JSON to change.
fn atorvastatin_hook(kind: &str) -> serde_json::Value {
    serde_json::from_str(&hook(
        kind,
        "C10AA05",
        "atorvastatin",
        None,
        Some("fastlege"),
        true,
    ))
    .unwrap()
}

fn hook(
    hook: &str,
    atc: &str,
    display: &str,
    text: Option<&str>,
    role_code: Option<&str>,
    with_patient: bool,
) -> String {
    let mut concept = serde_json::json!({ "coding": [{ "system": "http://www.whocc.no/atc", "code": atc, "display": display }] });
    if let Some(t) = text {
        concept["text"] = serde_json::json!(t);
    }
    let mut prefetch = serde_json::json!({});
    if with_patient {
        prefetch["patient"] = serde_json::json!({
            "resourceType": "Patient", "id": "p1", "birthDate": "1980-05-17",
            "identifier": [{ "system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "(ikke lagret)" }]
        });
    }
    if let Some(code) = role_code {
        prefetch["practitionerRole"] = serde_json::json!({
            "resourceType": "Bundle", "type": "searchset",
            "entry": [{ "resource": { "resourceType": "PractitionerRole", "id": "r1",
                "code": [{ "coding": [{ "system": "urn:legemiddel:prescriber-role", "code": code }] }] } }]
        });
    }
    serde_json::json!({
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "hook": hook,
        "fhirServer": "https://fhir.example.org",
        "context": {
            "userId": "Practitioner/123", "patientId": "p1", "selections": ["MedicationRequest/mr1"],
            "draftOrders": { "resourceType": "Bundle", "entry": [{ "resource": {
                "resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order",
                "authoredOn": "2025-01-15", "medicationCodeableConcept": concept,
                "subject": { "reference": "Patient/p1" } } }] }
        },
        "prefetch": prefetch
    })
    .to_string()
}

fn body_for(path: &str) -> String {
    match path {
        "/cds-services/legemiddel-order-select" => hook(
            "order-select",
            "H02AB13",
            "deflazacort",
            None,
            Some("sykehuslege"),
            true,
        ),
        "/cds-services/legemiddel-order-sign" => hook(
            "order-sign",
            "H02AB13",
            "deflazacort",
            None,
            Some("sykehuslege"),
            true,
        ),
        "/cds-services/legemiddel-order-sign/feedback" => {
            r#"{"feedback":[{"card":"0f0e3ab5-1c36-4d39-9f3c-2f2b2d6a1e11","outcome":"accepted","acceptedSuggestions":[{"id":"e56e1945-20b3-4393-8503-a1a20fd73152"}],"outcomeTimestamp":"2026-12-01T10:00:00Z"}]}"#.into()
        }
        "/api/v1/decide" => DECIDE.into(),
        "/api/v1/decide/batch" => format!("[{DECIDE},{DECIDE}]"),
        "/api/v1/dispense" => DISPENSE.into(),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_against_every_role_and_bad_token() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let now = server::now_epoch();
        let valid = app.key.sign_claims(&claims(Role::Administrator, now));
        let mut bad_tokens: Vec<(&str, String)> = vec![
            (
                "expired",
                app.key.sign_claims(&Claims {
                    exp: now - 3600,
                    iat: now - 7200,
                    ..claims(Role::Administrator, now)
                }),
            ),
            (
                "wrong issuer",
                app.key.sign_claims(&Claims {
                    iss: "https://helseid.example".into(),
                    ..claims(Role::Administrator, now)
                }),
            ),
            (
                "wrong audience",
                app.key.sign_claims(&Claims {
                    aud: "someone-else".into(),
                    ..claims(Role::Administrator, now)
                }),
            ),
            (
                "another key",
                LocalKey::generate().sign_claims(&claims(Role::Administrator, now)),
            ),
            ("garbage", "not.a.token".into()),
        ];
        // The right header and claims with a forged signature.
        let (head, _) = valid.rsplit_once('.').unwrap();
        bad_tokens.push(("wrong signature", format!("{head}.{}", "A".repeat(86))));

        let mut failures = Vec::new();
        for &(method, path, allowed) in ENDPOINTS {
            let body = body_for(path);
            let with_id = path
                .replace("{id}", "1")
                .replace("{name}", "soknader")
                .replace("{varenr}", "100000");
            let path_q = if path == "/api/v1/rules" {
                "/api/v1/rules?date=2025-01-01"
            } else {
                with_id.as_str()
            };
            // The case endpoints answer an allowed role with whatever the case calls for (404 for
            // a case that does not exist, 422 for an empty form); what matters here is that the
            // role gate lets it through and refuses everyone else.
            let workflow = [
                "/api/v1/off-label",
                "/api/v1/helfo",
                "/api/v1/overviews",
                "/api/v1/catalogue",
                "/api/v1/pharmacy",
                "/api/v1/stockpiles",
                "/api/v1/exemptions",
            ]
            .iter()
            .any(|p| path.starts_with(p));
            let expect = |role_ok: bool| {
                if allowed.is_none() || role_ok {
                    200
                } else {
                    403
                }
            };
            for &role in Role::ALL {
                let token = app.key.sign_claims(&claims(role, now));
                let ok = allowed.is_none_or(|a| a.contains(&role));
                let (status, text) = http(app.addr, method, path_q, Some(&token), &body).await;
                let role_gate = status == 403 && text.contains("krever en av rollene");
                let passed = if workflow && ok {
                    status != 401 && !role_gate && status < 500
                } else if workflow {
                    role_gate
                } else {
                    status == expect(ok)
                };
                if !passed {
                    failures.push(format!(
                        "{method} {path} as {role}: {status} (expected {}) {text}",
                        expect(ok)
                    ));
                }
            }
            let no_token_expect = if allowed.is_none() { 200 } else { 401 };
            let (status, _) = http(app.addr, method, path_q, None, &body).await;
            if status != no_token_expect {
                failures.push(format!("{method} {path} without token: {status}"));
            }
            for (what, token) in &bad_tokens {
                let (status, _) = http(app.addr, method, path_q, Some(token), &body).await;
                if status != no_token_expect {
                    failures.push(format!(
                        "{method} {path} with {what} token: {status} (expected {no_token_expect})"
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{place}:\n{}", failures.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_served_are_audited_and_bad_input_is_named() {
    for db in TestDb::all().await {
        let app = spawn(db).await;
        let token = app.key.sign(
            "lokal:kari",
            Some("Kari"),
            &[Role::Prescriber],
            Some("gp"),
            server::now_epoch(),
            1,
        );

        let (status, first_body) =
            http(app.addr, "POST", "/api/v1/decide", Some(&token), DECIDE).await;
        assert_eq!(status, 200, "{first_body}");
        let decision: serde_json::Value = serde_json::from_str(&first_body).unwrap();
        assert_eq!(decision["scheme"], "h_list");

        let (status, body) = http(app.addr, "POST", "/api/v1/decide", Some(&token), r#"{"date":"2025-01-15","drug":{"atc":"H02AB1","substance":"x"},"prescriber":{"role":"gp"}}"#).await;
        assert_eq!(status, 422, "{body}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["field"], "drug.atc");

        let (status, body) = http(
            app.addr,
            "POST",
            "/api/v1/decide",
            Some(&token),
            "{\"date\":",
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("\"field\""), "{body}");

        let (status, body) = http(
            app.addr,
            "POST",
            "/api/v1/decide/batch",
            Some(&token),
            &format!("[{DECIDE},{{\"x\":1}}]"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(list[0]["scheme"], "h_list");
        assert_eq!(list[1]["error"]["field"], "[1].x");

        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
        let (status, body) = http(app.addr, "POST", "/api/v1/decide", Some(&token), &big).await;
        assert_eq!(status, 413, "bodies over the limit are refused");
        // In the envelope, in Norwegian, as every other refusal (found by schemathesis).
        let refusal: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(refusal["error"]["field"], "$", "{body}");

        // Two decisions were served (one single, one batch); errors are not decisions.
        let v = app.store.verify_audit().await.unwrap();
        assert_eq!((v.records, v.broken), (2, None));
        let records = app.store.audit_after(0, 10).await.unwrap();
        assert_eq!(records[0].content.actor, "lokal:kari");
        assert_eq!(records[0].content.role, "prescriber");
        assert_eq!(records[0].content.action, "decide");
        assert!(
            records[0]
                .content
                .rule_set
                .contains("§ 1b-liste 2024-11-01")
        );
        // What was asked and answered is stored byte for byte.
        assert_eq!(records[0].content.request, DECIDE);
        assert_eq!(records[0].content.response, first_body);
        assert_eq!(records[1].content.action, "decide_batch");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let doc: serde_json::Value = serde_json::from_str(server::openapi::document()).unwrap();
    for (method, path, roles) in ENDPOINTS {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not in openapi.json");
        if roles.is_some() {
            for status in ["401", "403", "503"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} {status}"
                );
            }
        }
    }
    // And nothing is documented that the router does not serve.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                ENDPOINTS
                    .iter()
                    .any(|(m, p, _)| m.eq_ignore_ascii_case(method) && p == path),
                "{method} {path} is documented but not in ENDPOINTS"
            );
        }
    }
}

/// Every card has what CDS Hooks 2.0 requires: a summary under 140 characters, an indicator
/// of info / warning / critical, and a source with a label.
/// A CORS preflight: status and the raw head.
async fn raw_options(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "OPTIONS {path} HTTP/1.1\r\nHost: t\r\nOrigin: https://ehr.example\r\nAccess-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: authorization, content-type\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cds_hooks_answer_with_cards() {
    let db = TestDb::sqlite();
    let app = spawn(db).await;
    let (status, body) = http(app.addr, "GET", "/cds-services", None, "").await;
    assert_eq!(status, 200);
    let discovery: serde_json::Value = serde_json::from_str(&body).unwrap();
    let services = discovery["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    for s in services {
        for field in ["hook", "id", "description"] {
            assert!(s[field].is_string(), "{s}");
        }
        assert!(s["prefetch"]["patient"].is_string());
    }

    let token = app.key.sign(
        "lokal:lege",
        None,
        &[Role::Prescriber],
        Some("gp"),
        server::now_epoch(),
        1,
    );
    let sign = "/cds-services/legemiddel-order-sign";

    // Arikayce, hospital doctor: the RHF pays on H-prescription; suggest writing it so.
    let (status, body) = http(
        app.addr,
        "POST",
        sign,
        Some(&token),
        &hook(
            "order-sign",
            "J01GB06",
            "amikacin",
            Some("Arikayce"),
            Some("sykehuslege"),
            true,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_valid_cards(&answer);
    let first = &answer["cards"][0];
    assert!(
        first["summary"].as_str().unwrap().contains("RHF"),
        "{first}"
    );
    assert_eq!(first["suggestions"][0]["label"], "Skriv som H-resept");
    assert!(
        first["source"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://lovdata.no/")
    );

    // Wegovy from a GP (role from the token, no PractitionerRole): a warning and an action.
    let (status, body) = http(
        app.addr,
        "POST",
        sign,
        Some(&token),
        &hook(
            "order-sign",
            "A10BJ06",
            "semaglutid",
            Some("Wegovy"),
            None,
            true,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_valid_cards(&answer);
    let indicators: Vec<&str> = answer["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["indicator"].as_str().unwrap())
        .collect();
    assert!(indicators.contains(&"warning"), "{answer}");
    assert!(body.contains("søker: lege ved offentlig sykehus"), "{body}");
    assert!(
        !body.contains("public_hospital") && !body.contains("\"suggestions\":[]"),
        "words, not codes; no empty lists: {body}"
    );

    // CDS Hooks 2.0 conformance: real UUIDs, selectionBehavior with suggestions, the medicine
    // named in the summary.
    for card in answer["cards"].as_array().unwrap() {
        let uuid = card["uuid"].as_str().unwrap();
        assert!(uuid.len() == 36 && uuid.as_bytes()[14] == b'4', "{uuid}");
        assert!(
            card["summary"].as_str().unwrap().starts_with("Wegovy: "),
            "{card}"
        );
        if card.get("suggestions").is_some() {
            assert_eq!(card["selectionBehavior"], "at-most-one", "{card}");
        }
    }

    // An OperationOutcome (or null) where the Patient should be: the client could not fetch
    // it — 412, never a patient.
    let mut failed: serde_json::Value = atorvastatin_hook("order-sign");
    failed["prefetch"]["patient"] = serde_json::json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]});
    let (status, body) = http(app.addr, "POST", sign, Some(&token), &failed.to_string()).await;
    assert_eq!(status, 412, "{body}");
    failed["prefetch"]["patient"] = serde_json::Value::Null;
    let (status, _) = http(app.addr, "POST", sign, Some(&token), &failed.to_string()).await;
    assert_eq!(status, 412);

    // order-select decides what is selected: two draft orders, one selected → its cards only.
    let mut select: serde_json::Value = atorvastatin_hook("order-select");
    let mut other = select["context"]["draftOrders"]["entry"][0].clone();
    other["resource"]["id"] = serde_json::json!("mr2");
    other["resource"]["medicationCodeableConcept"] = serde_json::json!({"coding": [{"system": "http://www.whocc.no/atc", "code": "J01GB06", "display": "amikacin"}], "text": "Arikayce"});
    select["context"]["draftOrders"]["entry"]
        .as_array_mut()
        .unwrap()
        .push(other);
    select["context"]["selections"] = serde_json::json!(["MedicationRequest/mr2"]);
    let (status, body) = http(
        app.addr,
        "POST",
        "/cds-services/legemiddel-order-select",
        Some(&token),
        &select.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Arikayce: ") && !body.contains("Atorvastatin: "),
        "{body}"
    );
    select["context"]
        .as_object_mut()
        .unwrap()
        .remove("selections");
    let (status, body) = http(
        app.addr,
        "POST",
        "/cds-services/legemiddel-order-select",
        Some(&token),
        &select.to_string(),
    )
    .await;
    assert_eq!(status, 412, "{body}");

    // A FEST-coded order (varenummer, no ATC) is decided on the catalogue in force.
    let mut bytes = Vec::new();
    fest::generate::write(
        &mut bytes,
        &fest::generate::Options {
            packages: 50,
            ..Default::default()
        },
    )
    .unwrap();
    let cat = fest::parse(&bytes[..], |_| {}).unwrap();
    app.store
        .import_catalogue(&cat, "test", "test.xml", "2026-11-30T10:00:00Z")
        .await
        .unwrap();
    let package = &cat.packages[0];
    let mut fest_coded: serde_json::Value = serde_json::from_str(&hook(
        "order-sign",
        "C10AA05",
        "x",
        None,
        Some("fastlege"),
        true,
    ))
    .unwrap();
    fest_coded["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"] = serde_json::json!({
        "coding": [{"system": "urn:legemiddel:fest:varenr", "code": package.varenr}], "text": "fra journalen"});
    let (status, body) = http(
        app.addr,
        "POST",
        sign,
        Some(&token),
        &fest_coded.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_valid_cards(&answer);
    assert!(
        !answer["cards"][0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Legemidlet"),
        "named from FEST: {answer}"
    );

    // Feedback on a card is taken and recorded; a wrong outcome is named.
    let feedback = "/cds-services/legemiddel-order-sign/feedback";
    let (status, body) = http(
        app.addr,
        "POST",
        feedback,
        Some(&token),
        &body_for(feedback),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        app.addr,
        "POST",
        feedback,
        Some(&token),
        r#"{"feedback":[{"card":"0f0e3ab5-1c36-4d39-9f3c-2f2b2d6a1e11","outcome":"maybe"}]}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("feedback[0].outcome"), "{body}");
    // A card is named by its uuid (found by schemathesis: any text was taken).
    let (status, body) = http(
        app.addr,
        "POST",
        feedback,
        Some(&token),
        r#"{"feedback":[{"card":"g3e70682-c209-1cac-a29f-6fbed82c07cd","outcome":"accepted"}]}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("feedback[0].card"), "{body}");

    // Missing prefetch → 412 naming it; no role anywhere → 412.
    let (status, body) = http(
        app.addr,
        "POST",
        sign,
        Some(&token),
        &hook(
            "order-sign",
            "C10AA05",
            "atorvastatin",
            None,
            Some("fastlege"),
            false,
        ),
    )
    .await;
    assert_eq!(status, 412, "{body}");
    assert!(body.contains("prefetch.patient"), "{body}");
    let no_role = app.key.sign(
        "lokal:uten-rolle",
        None,
        &[Role::Prescriber],
        None,
        server::now_epoch(),
        1,
    );
    let (status, body) = http(
        app.addr,
        "POST",
        sign,
        Some(&no_role),
        &hook("order-sign", "C10AA05", "atorvastatin", None, None, true),
    )
    .await;
    assert_eq!(status, 412, "{body}");
    assert!(body.contains("practitionerRole"), "{body}");

    // A request not shaped as CDS Hooks says is 400, naming the field (found by schemathesis:
    // it was 412, as if only something were missing).
    let mut malformed: serde_json::Value = atorvastatin_hook("order-sign");
    malformed["context"]["draftOrders"]["entry"] = serde_json::json!(7);
    let (status, body) = http(app.addr, "POST", sign, Some(&token), &malformed.to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("context.draftOrders"), "{body}");
    malformed["context"]["draftOrders"]["entry"] = serde_json::json!([]);
    malformed.as_object_mut().unwrap().remove("hookInstance");
    let (status, body) = http(app.addr, "POST", sign, Some(&token), &malformed.to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("hookInstance"), "{body}");

    // The wrong hook for the service, and an unknown service.
    let (status, _) = http(
        app.addr,
        "POST",
        sign,
        Some(&token),
        &hook(
            "order-select",
            "C10AA05",
            "atorvastatin",
            None,
            Some("fastlege"),
            true,
        ),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = http(app.addr, "POST", "/cds-services/nope", Some(&token), "{}").await;
    assert_eq!(status, 404);
    // A browser client may call: the preflight is answered.
    let (status, text) = raw_options(app.addr, "/cds-services/legemiddel-order-sign").await;
    assert!(status == 200 || status == 204, "{status} {text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{text}"
    );

    // The answered hooks and the feedback are in the audit trail.
    let records = app.store.audit_after(0, 10).await.unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r.content.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "cds:order-sign",
            "cds:order-sign",
            "cds:order-select",
            "cds:order-sign",
            "cds-feedback:legemiddel-order-sign"
        ]
    );
    // What is stored is the decision request the order was mapped to, not the FHIR body with
    // the patient's identifiers.
    assert!(
        !records[0]
            .content
            .request
            .contains("urn:oid:2.16.578.1.12.4.1.4.1"),
        "{}",
        records[0].content.request
    );
    assert!(
        records[0].content.request.contains("\"atc\":\"J01GB06\""),
        "{}",
        records[0].content.request
    );
}
