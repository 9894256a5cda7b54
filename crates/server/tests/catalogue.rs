//! The FEST catalogue through the service, on SQLite and PostgreSQL: a snapshot imported into
//! the store is searched (`/api/v1/catalogue`), shown (`/katalog/{varenr}`), and used by
//! decisions that name a product by varenummer and a refund code — § 2 from FEST's refund
//! groups, the H-prescription checked against the § 1b list with a disagreement reported.

mod support;

use serde_json::Value;
use server::Role;
use support::{TestDb, http, spawn, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_search_and_pages_use_the_catalogue_in_force() {
    let mut bytes = Vec::new();
    fest::generate::write(
        &mut bytes,
        &fest::generate::Options {
            packages: 800,
            ..Default::default()
        },
    )
    .unwrap();
    let cat = fest::parse(&bytes[..], |_| {}).unwrap();
    let varenr = |atc: &str| {
        cat.packages
            .iter()
            .find(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == atc))
            .unwrap()
            .varenr
            .clone()
    };
    let (amlodipin, deflazacort, etanercept) =
        (varenr("C08CA01"), varenr("H02AB13"), varenr("L04AB01"));
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let app = spawn(db).await;
        let token = token(&app, "lege", Role::Prescriber, None, Some("gp"));
        let decide = |body: String| {
            let token = token.clone();
            async move {
                let (status, text) =
                    http(app.addr, "POST", "/api/v1/decide", Some(&token), &body).await;
                (
                    status,
                    serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                )
            }
        };
        let by_varenr = |v: &str, code: Option<&str>| {
            let usage = code
                .map(|c| format!(r#","use":{{"refund_code":"{c}"}}"#))
                .unwrap_or_default();
            format!(
                r#"{{"date":"2026-11-24","drug":{{"varenr":"{v}"}}{usage},"prescriber":{{"role":"hospital_doctor"}}}}"#
            )
        };

        // Without a catalogue a varenummer is refused, naming the field.
        let (status, body) = decide(by_varenr(&amlodipin, Some("K86"))).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("drug.varenr")),
            "{place}: {body}"
        );

        app.store
            .import_catalogue(&cat, "sha", "test.xml", "2026-11-24T10:00:00Z")
            .await
            .unwrap();

        // § 2 from FEST: the package's refund group has K86 (B1).
        let (status, d) = decide(by_varenr(&amlodipin, Some("K86"))).await;
        assert_eq!(status, 200, "{place}: {d}");
        assert_eq!(
            (d["payer"].as_str(), d["scheme"].as_str()),
            (Some("folketrygden"), Some("s2")),
            "{place}: {d}"
        );
        assert_eq!(d["catalogue"]["refund"]["code"], "K86");
        assert!(
            d["explanation"][0]["text"]
                .as_str()
                .unwrap()
                .contains("refusjonskode K86")
        );
        // A diagnosis outside the group: not § 2, so § 3.
        let (_, d) = decide(by_varenr(&amlodipin, Some("T90"))).await;
        assert_eq!(d["scheme"], "s3", "{place}: {d}");
        // On the § 1b list and in FEST's H-resept group: the RHF pays, no disagreement.
        let (_, d) = decide(by_varenr(&deflazacort, None)).await;
        assert_eq!(
            (d["payer"].as_str(), d["scheme"].as_str()),
            (Some("rhf"), Some("h_list")),
            "{place}: {d}"
        );
        assert!(d["catalogue"].get("disagreements").is_none());
        // In FEST's H-resept group, not in the list data: reported, not hidden.
        let (_, d) = decide(by_varenr(&etanercept, None)).await;
        assert!(
            d["catalogue"]["disagreements"][0]
                .as_str()
                .unwrap()
                .contains("uenige"),
            "{place}: {d}"
        );
        // A caller fact that contradicts FEST is refused.
        let body = format!(
            r#"{{"date":"2026-11-24","drug":{{"varenr":"{amlodipin}","atc":"C10AA05"}},"prescriber":{{"role":"gp"}}}}"#
        );
        assert_eq!(
            decide(body).await.1["error"]["field"],
            "drug.atc",
            "{place}"
        );

        // Look-ups.
        let (status, text) = http(
            app.addr,
            "GET",
            "/api/v1/catalogue?q=amlodipin&limit=3",
            Some(&token),
            "",
        )
        .await;
        let hits: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, hits["hits"].as_array().unwrap().len()),
            (200, 3),
            "{place}: {text}"
        );
        assert!(
            hits["total"].as_u64().is_some_and(|t| t > 3),
            "{place}: total counts past the limit: {text}"
        );
        let (status, text) = http(
            app.addr,
            "GET",
            &format!("/api/v1/catalogue/{amlodipin}"),
            Some(&token),
            "",
        )
        .await;
        let page: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            page["atc_path"][1]["name"], "Kalsiumantagonister",
            "{place}"
        );
        assert!(!page["substitutes"].as_array().unwrap().is_empty());
        assert_eq!(
            http(
                app.addr,
                "GET",
                "/api/v1/catalogue/000000",
                Some(&token),
                ""
            )
            .await
            .0,
            404
        );
    }
}
