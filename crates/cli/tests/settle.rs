//! `legemiddel settle export` as an operator runs it, after a pharmacy has dispensed through the
//! service: the claims on Helfo come out as an M18 `Oppgjorskrav` valid against the schema in
//! `shared/standards`, the trusts' as CSV and XLSX, and a second export settles nothing twice —
//! on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(addr: std::net::SocketAddr, token: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /api/v1/pharmacy/dispensings HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
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
    (
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

/// `legemiddel settle export` for `payer` and `period` into `out`.
fn export(flag: &str, d: &str, payer: &str, period: &str, out: &Path) -> (i32, String) {
    legemiddel(&[
        "settle",
        "export",
        flag,
        d,
        "--payer",
        payer,
        "--period",
        period,
        "--out",
        out.to_str().unwrap(),
    ])
}

fn xmllint_valid(file: &Path) {
    let required = std::env::var("LEGEMIDDEL_REQUIRE_XMLLINT").is_ok_and(|v| v == "1");
    if Command::new("xmllint").arg("--version").output().is_err() {
        assert!(
            !required,
            "LEGEMIDDEL_REQUIRE_XMLLINT=1 but xmllint is not installed"
        );
        eprintln!("M18 schema check SKIPPED: install libxml2-utils (or run .ci/run)");
        return;
    }
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/standards/eresept/skjema/eresept/ER-M18-2013-04-16.xsd");
    let out = Command::new("xmllint")
        .args([
            "--noout",
            "--schema",
            schema.to_str().unwrap(),
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "M18 not valid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

mod service;

use service::{drop_database, places, run as legemiddel};

#[test]
fn claims_are_settled_once_into_m18_and_trust_invoices() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("legemiddel-settle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (location, flag, d) in places(&dir) {
        settle_on(&dir, location.clone(), flag, &d);
        if let store::Location::Url(url) = location {
            drop_database(&url);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn settle_on(dir: &Path, location: store::Location, flag: &str, d: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut bytes = Vec::new();
        fest::generate::write(
            &mut bytes,
            &fest::generate::Options {
                packages: 500,
                ..Default::default()
            },
        )
        .unwrap();
        let cat = fest::parse(&bytes[..], |_| {}).unwrap();
        let store = store::Store::open(&location).await.unwrap();
        store
            .import_catalogue(&cat, "t", "t.xml", "2026-11-30T10:00:00Z")
            .await
            .unwrap();
        let rules = Arc::new(ruleset::RuleSet::embedded().unwrap());
        let app = server::App::build(server::Config::new(
            "127.0.0.1:0".parse().unwrap(),
            location.clone(),
            rules,
        ))
        .await
        .unwrap();
        let addr = app.local_addr();
        tokio::spawn(app.run_until(std::future::pending()));
        let key = server::local_key(&store).await.unwrap();
        let token = key.sign(
            "test:apotek",
            Some("Per Farmasøyt"),
            &[server::Role::Pharmacist],
            None,
            server::now_epoch(),
            1,
        );
        let amlodipin = cat
            .packages
            .iter()
            .find(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == "C08CA01"))
            .unwrap();
        let h_listed = cat
            .packages
            .iter()
            .find(|p| {
                p.medicine
                    .atc
                    .as_ref()
                    .is_some_and(|a| a.code.starts_with("L04AB"))
            })
            .unwrap();
        let base = |id: &str, form: &str| {
            let mut b = json!({
                "dispensing_id": id,
                "date": "2026-06-01",
                "pharmacy": {"id": "A1-0042", "name": "=Apotek 1 Storgata & Co"},
                "patient": {"id_kind": "fnr", "id": "13097248022", "birth_date": "1972-09-13"},
                "prescription": {
                    "id": format!("resept-{id}"), "form": form,
                    "issued": "2026-05-20", "valid_until": "2027-05-20",
                    "prescriber": {"hpr": "9144889", "name": "Kari Lege", "role": "gp"}
                },
                "drug": {"varenr": amlodipin.varenr},
                "packages": 2
            });
            match form {
                "blue" => b["prescription"]["refund_code"] = json!("K86"),
                "white_note" => b["prescription"]["paying_trust"] = json!("Helse Bergen HF"),
                _ => {
                    // An H-prescription: the trust of the patient's municipality pays, through
                    // its RHF (Bergen: Helse Bergen, Helse Vest); 9999 is in no catchment.
                    b["drug"]["varenr"] = json!(h_listed.varenr);
                    b["patient"]["municipality"] = json!(if id == "h1" { "4601" } else { "9999" });
                }
            }
            b.to_string()
        };
        for (id, form) in [
            ("b1", "blue"),
            ("b2", "blue"),
            ("w1", "white_note"),
            ("h1", "h"),
            ("h2", "h"),
        ] {
            let (status, body) = post(addr, &token, &base(id, form)).await;
            assert_eq!(status, 201, "{body}");
            let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
            match id {
                "w1" | "h1" => {
                    let line = &answer["lines"][0];
                    assert_eq!(line["trust"], "Helse Bergen HF", "{body}");
                    assert_eq!(line["rhf"], "Helse Vest RHF", "{body}");
                    assert_eq!(
                        line["invoice_address"], "EHF/PEPPOL 0192:983974724",
                        "{body}"
                    );
                }
                "h2" => {
                    assert!(answer["lines"][0].get("trust").is_none(), "{body}");
                    assert!(
                        answer["warnings"][0].as_str().unwrap().contains("9999"),
                        "{body}"
                    );
                }
                _ => {}
            }
        }
        // A note naming a trust the register does not know is refused: the invoice would go
        // to nobody.
        let mut unknown: serde_json::Value =
            serde_json::from_str(&base("w2", "white_note")).unwrap();
        unknown["prescription"]["paying_trust"] = json!("Helse Bregen HF");
        let (status, body) = post(addr, &token, &unknown.to_string()).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("prescription.paying_trust"), "{body}");
    });
    let m18 = dir.join("helfo-2026-06.xml");
    let (code, said) = export(flag, d, "helfo", "2026-06", &m18);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("2 krav på helfo") && said.contains("2 nye"),
        "{said}"
    );
    let xml = std::fs::read_to_string(&m18).unwrap();
    assert_eq!(xml.matches("<m18:Enkeltregning>").count(), 2);
    assert!(xml.contains("<m18:RefKode V=\"K86\"/>"));
    assert!(xml.contains("Apotek") || xml.contains("<m18:ReseptId>resept-b1</m18:ReseptId>"));
    xmllint_valid(&m18);

    // Again: the same claims, nothing settled twice.
    let (code, said) = export(flag, d, "helfo", "2026-06", &m18);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("2 krav på helfo") && said.contains("ingen nye"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(&m18)
            .unwrap()
            .matches("<m18:Enkeltregning>")
            .count(),
        2
    );

    // The trust's invoice, with the formula-looking pharmacy name neutralized, and one
    // invoice per paying trust beside it.
    let csv = dir.join("hf-2026-06.csv");
    let (code, said) = export(flag, d, "hf", "2026-06", &csv);
    assert_eq!(code, 0, "{said}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("'=Apotek 1 Storgata"), "{text}");
    assert!(
        text.contains("Helse Bergen HF") && text.contains("EHF/PEPPOL 0192:983974724"),
        "{text}"
    );
    assert!(dir.join("hf-2026-06.xlsx").exists());
    assert!(dir.join("hf-2026-06.helse-bergen.csv").exists());
    assert!(dir.join("hf-2026-06.helse-bergen.xlsx").exists());

    // The RHF's claims: one per H-prescription, by the trust of the patient's municipality; the
    // one whose municipality is in no catchment is written apart, with a warning.
    let rhf = dir.join("rhf-2026-06.csv");
    let (code, said) = export(flag, d, "rhf", "2026-06", &rhf);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("2 krav på rhf"), "{said}");
    assert!(said.contains("1 krav uten helseforetak"), "{said}");
    let bergen = std::fs::read_to_string(dir.join("rhf-2026-06.helse-bergen.csv")).unwrap();
    assert!(
        bergen.contains("resept-h1") && bergen.contains("Helse Vest RHF"),
        "{bergen}"
    );
    assert!(!bergen.contains("resept-h2"), "{bergen}");
    let orphan = std::fs::read_to_string(dir.join("rhf-2026-06.uten-helseforetak.csv")).unwrap();
    assert!(orphan.contains("resept-h2"), "{orphan}");

    // A correction after settlement: a credit in the next month, never an edit.
    let (code, said) = legemiddel(&[
        "settle",
        "credit",
        flag,
        d,
        "--dispensing",
        "b1",
        "--period",
        "2026-07",
    ]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("kreditert: 1 krav"), "{said}");
    let (code, said) = legemiddel(&[
        "settle",
        "credit",
        flag,
        d,
        "--dispensing",
        "b1",
        "--period",
        "2026-07",
    ]);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("ingenting endret"),
        "credited once only: {said}"
    );
    let july = dir.join("helfo-2026-07.xml");
    let (code, said) = export(flag, d, "helfo", "2026-07", &july);
    assert_eq!(code, 0, "{said}");
    let xml = std::fs::read_to_string(&july).unwrap();
    assert!(xml.contains("<m18:KrediteringRef>"), "{xml}");
    assert!(xml.contains("<m18:SumRefusjon V=\"-"), "{xml}");
    xmllint_valid(&july);
    let (code, _) = legemiddel(&["settle", "credit", flag, d, "--dispensing", "finnes-ikke"]);
    assert_eq!(code, 1);

    // Nothing for a month without dispensings: exit 1, no file.
    let none = dir.join("tom.xml");
    let (code, _) = export(flag, d, "helfo", "2026-08", &none);
    assert_eq!(code, 1);
    assert!(!none.exists());
}
