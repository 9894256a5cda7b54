//! Issue 9, points 2, 3, 5 and 6: tokens checked to the letter, local sign-in only where it is
//! safe, reads of health data and case changes in the audit trail, signed audit heads, security
//! headers, forms only from the service's own pages, connection limits, and errors in the
//! service's own words and shape.

mod support;

use std::time::Duration;

use server::auth::{Audience, Claims, LOCAL_AUDIENCE, LOCAL_ISSUER};
use server::{LocalKey, LocalSignIn, Role};
use support::{Reply, TestApp, TestDb, request, spawn, spawn_with, token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn claims(now: i64) -> Claims {
    Claims {
        sub: "test:lege".into(),
        name: None,
        iss: LOCAL_ISSUER.into(),
        aud: LOCAL_AUDIENCE.into(),
        exp: now + 3600,
        iat: now,
        nbf: None,
        cnf: None,
        roles: vec!["prescriber".into()],
        role: None,
        prescriber_role: Some("gp".into()),
        trust: None,
        scope: None,
        other: Default::default(),
    }
}

async fn rules_with(app: &TestApp, authorization: &str) -> Reply {
    request(
        app.addr,
        "GET",
        "/api/v1/rules",
        &[("Authorization", authorization)],
        "",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_to_the_letter() {
    let app = spawn(TestDb::sqlite()).await;
    let now = server::now_epoch();
    let refused: Vec<(&str, String)> = vec![
        (
            "not valid before an hour from now",
            app.key.sign_claims(&Claims {
                nbf: Some(now + 3600),
                ..claims(now)
            }),
        ),
        (
            "empty subject",
            app.key.sign_claims(&Claims {
                sub: " ".into(),
                ..claims(now)
            }),
        ),
        (
            "lives 48 hours",
            app.key.sign_claims(&Claims {
                exp: now + 48 * 3600,
                ..claims(now)
            }),
        ),
        (
            "bound to a key (DPoP)",
            app.key.sign_claims(&Claims {
                cnf: Some(
                    serde_json::json!({ "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }),
                ),
                ..claims(now)
            }),
        ),
        (
            "a DPoP proof, not an access token",
            app.key.sign_claims_typed(&claims(now), Some("dpop+jwt")),
        ),
        (
            "audience list without ours",
            app.key.sign_claims(&Claims {
                aud: Audience::Many(vec!["a".into(), "b".into()]),
                ..claims(now)
            }),
        ),
    ];
    for (why, t) in refused {
        let r = rules_with(&app, &format!("Bearer {t}")).await;
        assert_eq!(r.status, 401, "{why}: {}", r.body);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"legemiddel\", error=\"invalid_token\""),
            "{why}"
        );
        assert_eq!(r.json()["error"]["field"], "Authorization", "{why}");
    }
    let accepted: Vec<(&str, String)> = vec![
        (
            "audience as an array",
            format!(
                "Bearer {}",
                app.key.sign_claims(&Claims {
                    aud: Audience::Many(vec!["nhn".into(), LOCAL_AUDIENCE.into()]),
                    ..claims(now)
                })
            ),
        ),
        (
            "typ at+jwt (RFC 9068)",
            format!(
                "Bearer {}",
                app.key.sign_claims_typed(&claims(now), Some("at+jwt"))
            ),
        ),
        (
            "no typ",
            format!("Bearer {}", app.key.sign_claims_typed(&claims(now), None)),
        ),
        (
            "the scheme in lower case",
            format!("bearer {}", app.key.sign_claims(&claims(now))),
        ),
        (
            "valid from a minute ago, 24 hours",
            format!(
                "BEARER {}",
                app.key.sign_claims(&Claims {
                    nbf: Some(now - 60),
                    exp: now + 24 * 3600,
                    ..claims(now)
                })
            ),
        ),
    ];
    for (why, auth) in accepted {
        let r = rules_with(&app, &auth).await;
        assert_eq!(r.status, 200, "{why}: {}", r.body);
    }
    let none = request(app.addr, "GET", "/api/v1/rules", &[], "").await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"legemiddel\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_external_issuer_local_tokens_need_to_be_allowed() {
    let issuer_key = LocalKey::generate();
    let external = |local_tokens: bool| {
        let jwks = issuer_key.jwks();
        move |c: &mut server::Config| {
            c.oidc = Some(server::Oidc {
                issuer: "https://helseid.example".into(),
                audience: LOCAL_AUDIENCE.into(),
                keys: server::OidcKeys::Json(jwks),
                role_map: None,
            });
            c.local_tokens = local_tokens;
        }
    };
    let now = server::now_epoch();
    let from_issuer = issuer_key.sign_claims(&Claims {
        iss: "https://helseid.example".into(),
        ..claims(now)
    });
    let strict = spawn_with(TestDb::sqlite(), external(false)).await;
    let local = strict.key.sign_claims(&claims(now));
    assert_eq!(
        rules_with(&strict, &format!("Bearer {local}")).await.status,
        401
    );
    assert_eq!(
        rules_with(&strict, &format!("Bearer {from_issuer}"))
            .await
            .status,
        200
    );
    // No local sign-in page either.
    let login = request(
        strict.addr,
        "POST",
        "/logg-inn",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "user=lokal%3Akari.lege",
    )
    .await;
    assert!(login.header("set-cookie").is_none());

    let lenient = spawn_with(TestDb::sqlite(), external(true)).await;
    let local = lenient.key.sign_claims(&claims(now));
    assert_eq!(
        rules_with(&lenient, &format!("Bearer {local}"))
            .await
            .status,
        200
    );
    assert_eq!(
        rules_with(&lenient, &format!("Bearer {from_issuer}"))
            .await
            .status,
        200
    );
}

async fn sign_in(app: &TestApp) -> Option<String> {
    let r = request(
        app.addr,
        "POST",
        "/logg-inn",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "user=lokal%3Akari.lege",
    )
    .await;
    r.header("set-cookie").map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_sign_in_is_only_on_loopback_unless_asked_for() {
    let on_loopback = spawn(TestDb::sqlite()).await;
    assert!(sign_in(&on_loopback).await.is_some());

    let open = spawn_with(TestDb::sqlite(), |c| {
        c.listen = "0.0.0.0:0".parse().unwrap();
    })
    .await;
    assert!(
        sign_in(&open).await.is_none(),
        "password-free sign-in on an address others can reach"
    );
    let page = request(open.addr, "GET", "/logg-inn", &[], "").await;
    assert_eq!(page.status, 200);

    let asked = spawn_with(TestDb::sqlite(), |c| {
        c.listen = "0.0.0.0:0".parse().unwrap();
        c.local_sign_in = LocalSignIn::Always;
    })
    .await;
    assert!(sign_in(&asked).await.is_some());

    let off = spawn_with(TestDb::sqlite(), |c| c.local_sign_in = LocalSignIn::Off).await;
    assert!(sign_in(&off).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_has_security_headers_and_patient_data_is_never_cached() {
    let app = spawn(TestDb::sqlite()).await;
    let admin = token(&app, "admin", Role::Administrator, None, None);
    let auth = format!("Bearer {admin}");
    for (path, auth) in [
        ("/logg-inn", None),
        ("/api/v1/rules", Some(auth.as_str())),
        ("/api/v1/off-label", Some(auth.as_str())),
        ("/healthz", None),
        ("/finnes-ikke", None),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let r = request(app.addr, "GET", path, &headers, "").await;
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(r.header("referrer-policy").is_some(), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    let css = request(app.addr, "GET", "/static/app.css", &[], "").await;
    assert_eq!(css.header("cache-control"), Some("max-age=3600"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_are_accepted_only_from_the_services_own_pages() {
    let app = spawn(TestDb::sqlite()).await;
    let cookie = sign_in(&app).await.unwrap();
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let csrf = server::csrf_for(cookie.split_once('=').unwrap().1);
    let form = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    // Every page's form carries the token.
    let page = request(app.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(
        page.body
            .contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
        "{}",
        page.body
    );

    let missing = request(app.addr, "POST", "/logg-ut", &form, "").await;
    assert_eq!(missing.status, 403);
    let wrong = request(app.addr, "POST", "/logg-ut", &form, "csrf=0123").await;
    assert_eq!(wrong.status, 403);
    let foreign = request(
        app.addr,
        "POST",
        "/logg-ut",
        &[form[0], form[1], ("Origin", "https://evil.example")],
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(foreign.status, 403);
    assert!(foreign.body.contains("annet nettsted"), "{}", foreign.body);
    // Still signed in: nothing above took effect.
    let home = request(app.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(home.status, 200);
    let own_origin = format!("http://{}", app.addr);
    let ok = request(
        app.addr,
        "POST",
        "/logg-ut",
        &[form[0], form[1], ("Origin", own_origin.as_str())],
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let after = request(app.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(after.status, 303, "the session ended on the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_cookies_are_secure_and_only_the_public_origin_may_post() {
    let app = spawn_with(TestDb::sqlite(), |c| {
        c.public_url = Some("https://legemiddel.example.no/".into());
    })
    .await;
    let foreign = request(
        app.addr,
        "POST",
        "/logg-inn",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://evil.example"),
        ],
        "user=lokal%3Akari.lege",
    )
    .await;
    assert_eq!(foreign.status, 403);
    let r = request(
        app.addr,
        "POST",
        "/logg-inn",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://legemiddel.example.no"),
        ],
        "user=lokal%3Akari.lege",
    )
    .await;
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(r.header("strict-transport-security").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_sent_requests_are_cut_off_and_cannot_exhaust_the_service() {
    let app = spawn_with(TestDb::sqlite(), |c| {
        c.limits.header_read_timeout = Duration::from_secs(1);
        c.limits.max_connections = 16;
    })
    .await;
    // Many connections that start a request and never finish its headers.
    let mut slow = Vec::new();
    for _ in 0..200 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(app.addr).await {
            let _ = s
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await;
            slow.push(s);
        }
    }
    // A real request still gets its answer, within a few header timeouts.
    let answered = tokio::time::timeout(
        Duration::from_secs(20),
        request(app.addr, "GET", "/healthz", &[], ""),
    )
    .await
    .expect("a client was starved by half-sent requests");
    assert_eq!(answered.status, 200);
    // The first half-sent request was cut off by the server, not left open.
    let mut first = slow.swap_remove(0);
    let mut buf = Vec::new();
    let cut = tokio::time::timeout(Duration::from_secs(10), first.read_to_end(&mut buf)).await;
    assert!(cut.is_ok(), "a half-sent request was left open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_and_queries_are_answered_in_the_services_own_shape_and_words() {
    let app = spawn(TestDb::sqlite()).await;
    let admin = token(&app, "admin", Role::Administrator, None, None);
    let auth = format!("Bearer {admin}");
    let h = [("Authorization", auth.as_str())];
    let r = request(app.addr, "GET", "/api/v1/off-label/abc", &h, "").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["field"], "id");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("«abc»")
    );
    let r = request(app.addr, "GET", "/api/v1/catalogue?q=x&limit=mange", &h, "").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "$query");
    let r = request(app.addr, "GET", "/api/v1/finnes-ikke", &h, "").await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["message"].is_string());
    let page = request(app.addr, "GET", "/helfo/abc", &[], "").await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("lang=\"nb\"") && page.body.contains("«abc»"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Invalid URL"));
    let missing = request(app.addr, "GET", "/ingen-side", &[], "").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Siden finnes ikke"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_seen_by_their_author_only_and_reads_of_cases_are_audited() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let trust = Some("Helse Bergen HF");
        let author = token(&app, "a", Role::Prescriber, trust, Some("hospital_doctor"));
        let colleague = token(&app, "b", Role::Prescriber, trust, Some("hospital_doctor"));
        let head = token(&app, "kl", Role::ClinicHead, trust, None);
        let admin = token(&app, "adm", Role::Administrator, None, None);
        let body =
            serde_json::json!({ "fields": { "atc": "L01FF02", "substance": "pembrolizumab" } });
        let created = request(
            app.addr,
            "POST",
            "/api/v1/off-label",
            &[("Authorization", &format!("Bearer {author}"))],
            &body.to_string(),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json()["id"].as_i64().unwrap();
        // The change's audit record came with the answer, and names the case.
        let seq: i64 = created.header("x-audit-seq").unwrap().parse().unwrap();
        let change = app.store.audit_record(seq).await.unwrap().unwrap();
        assert!(
            change.content.action.starts_with("case:off_label:"),
            "{place}"
        );
        assert!(change.content.request.contains(&format!("\"case\":{id}")));

        let path = format!("/api/v1/off-label/{id}");
        for (who, t) in [
            ("colleague", &colleague),
            ("clinic head", &head),
            ("administrator", &admin),
        ] {
            let r = request(
                app.addr,
                "GET",
                &path,
                &[("Authorization", &format!("Bearer {t}"))],
                "",
            )
            .await;
            assert_eq!(r.status, 404, "{who} saw a draft: {place}");
            let list = request(
                app.addr,
                "GET",
                "/api/v1/off-label",
                &[("Authorization", &format!("Bearer {t}"))],
                "",
            )
            .await;
            if list.status == 200 {
                assert_eq!(
                    list.json()["cases"].as_array().unwrap().len(),
                    0,
                    "{who}: {place}"
                );
            }
        }
        let own = request(
            app.addr,
            "GET",
            &path,
            &[("Authorization", &format!("Bearer {author}"))],
            "",
        )
        .await;
        assert_eq!(own.status, 200);
        let seq: i64 = own.header("x-audit-seq").unwrap().parse().unwrap();
        let read = app.store.audit_record(seq).await.unwrap().unwrap();
        assert_eq!(
            read.content.action,
            format!("read:GET /api/v1/off-label/{id}")
        );
        assert_eq!(read.content.actor, "test:a");
        assert!(read.content.request.contains(&format!("\"case\":{id}")));

        // A coverage check by patient id is a read of health data too.
        let pharmacist = token(&app, "apotek", Role::Pharmacist, None, None);
        let r = request(
            app.addr,
            "POST",
            "/api/v1/helfo/coverage",
            &[("Authorization", &format!("Bearer {pharmacist}"))],
            r#"{"patient_id":"13097248022","atc":"N02AA01","date":"2026-06-01"}"#,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let seq: i64 = r.header("x-audit-seq").unwrap().parse().unwrap();
        let read = app.store.audit_record(seq).await.unwrap().unwrap();
        assert_eq!(read.content.action, "read:POST /api/v1/helfo/coverage");
        assert!(read.content.request.contains("13097248022"), "{place}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_writes_signed_heads_outside_the_database() {
    let dir = std::env::temp_dir().join(format!("legemiddel-heads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("heads.jsonl");
    let target = file.clone();
    let app = spawn_with(TestDb::sqlite(), move |c| {
        c.checkpoints = Some(server::audit_head::Checkpoints {
            target: server::audit_head::CheckpointTarget::File(target),
            every_records: 5,
            every: Duration::from_secs(1),
        });
    })
    .await;
    let doctor = token(&app, "lege", Role::Prescriber, None, Some("gp"));
    for m in 0..12 {
        let r = request(
            app.addr,
            "POST",
            "/api/v1/decide",
            &[("Authorization", &format!("Bearer {doctor}"))],
            &support::decide_body(m),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let mut heads = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(text) = std::fs::read_to_string(&file)
            && let Ok(h) = server::audit_head::SignedHead::parse_all(&text)
            && h.last().is_some_and(|h| h.seq == 12)
        {
            heads = h;
            break;
        }
    }
    assert!(!heads.is_empty(), "no checkpoint reached record 12");
    let key = server::local_key(&app.store).await.unwrap();
    for h in &heads {
        h.check(&app.store, &key, 12).await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
