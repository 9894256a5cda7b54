//! `legemiddel simulate --rules DIR`: decisions served and recorded in the audit trail, replayed
//! under a proposed rule set — a new § 1b list file moving atorvastatin to the trusts — and the
//! changes counted per transition and per medicine, with examples; the period respected.

mod service;

use std::path::Path;

use service::{copy_dir, free_port, legemiddel, post, start};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = legemiddel().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn request(atc: &str, substance: &str) -> String {
    format!(
        r#"{{"date":"2026-06-01","drug":{{"atc":"{atc}","substance":"{substance}"}},"use":{{"refund_listed":true}},"prescriber":{{"role":"gp"}}}}"#
    )
}

#[test]
fn a_proposed_h_list_change_is_counted_per_transition_and_per_medicine() {
    let dir = std::env::temp_dir().join(format!("legemiddel-simulate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let d = data.to_str().unwrap();
    let (_, token, _) = run(&[
        "token",
        "--data",
        d,
        "--role",
        "prescriber",
        "--name",
        "sim",
        "--prescriber-role",
        "gp",
    ]);
    let token = token.trim().to_string();
    let addr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut server = start(&data, addr);
    // Two single decisions and one batch of three: four atorvastatin, one montelukast.
    let statin = request("C10AA05", "atorvastatin");
    let other = request("R03DC03", "montelukast");
    for body in [&statin, &other] {
        let (status, _, answer) = post(addr, "POST", "/api/v1/decide", &token, body).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let batch = format!("[{statin},{statin},{statin}]");
    let (status, _, answer) = post(addr, "POST", "/api/v1/decide/batch", &token, &batch).unwrap();
    assert_eq!(status, 200, "{answer}");
    let _ = server.kill();
    let _ = server.wait();

    // The proposal: today's rule data plus a § 1b list file moving atorvastatin to the trusts.
    let proposed = dir.join("forslag");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules"),
        &proposed,
    );
    std::fs::write(
        proposed.join("h-list/2026-05-01.toml"),
        r#"rule = "F5"
title = "Forslag: atorvastatin til RHF-ene"
source = "test"
basis = "blåreseptforskriften § 1b annet ledd"
effective = 2026-05-01

[[entry]]
substance = "atorvastatin"
atc = "C10AA05"
use = "Forslag"
"#,
    )
    .unwrap();
    let p = proposed.to_str().unwrap();
    let (code, out, err) = run(&["simulate", "--data", d, "--rules", p]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("5 beslutninger spilt av, 4 ville blitt endret"),
        "{out}"
    );
    assert!(out.contains("betaler    folketrygden → rhf: 4"), "{out}");
    assert!(out.contains("C10AA05 atorvastatin: 4 av 4"), "{out}");
    assert!(
        out.contains("post 3[0]"),
        "a batch's decision is named by its place: {out}"
    );

    let (code, csv, _) = run(&["simulate", "--data", d, "--rules", p, "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(
        csv.starts_with("field,from,to,decisions,examples\n"),
        "{csv}"
    );
    assert!(csv.contains("payer,folketrygden,rhf,4,"), "{csv}");
    let (_, per_medicine, _) = run(&[
        "simulate",
        "--data",
        d,
        "--rules",
        p,
        "--format",
        "csv",
        "--table",
        "medicines",
    ]);
    assert!(
        per_medicine.contains("C10AA05 atorvastatin,4,4,"),
        "{per_medicine}"
    );
    assert!(
        per_medicine.contains("R03DC03 montelukast,1,0,"),
        "{per_medicine}"
    );
    let (_, svg, _) = run(&["simulate", "--data", d, "--rules", p, "--format", "svg"]);
    assert!(
        svg.starts_with("<svg") && svg.contains("folketrygden → rhf"),
        "{svg}"
    );

    // The same rule data change nothing; a period before the decisions has none.
    let same = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let (_, out, _) = run(&["simulate", "--data", d, "--rules", same.to_str().unwrap()]);
    assert!(
        out.contains("5 beslutninger spilt av, 0 ville blitt endret"),
        "{out}"
    );
    let (_, out, _) = run(&["simulate", "--data", d, "--rules", p, "--to", "2020-01-01"]);
    assert!(out.contains("0 beslutninger spilt av"), "{out}");
    // Without --rules there is nothing to try.
    let (code, _, err) = run(&["simulate", "--data", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--rules"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
