//! `legemiddel rules import-h-list`: Helsedirektoratet's spreadsheet becomes a dated § 1b list
//! file that loads with the rest of the rule data and decides from its date; medicines already
//! listed are left out; a bad row is named and nothing is written.

use std::path::{Path, PathBuf};
use std::process::Command;

mod service;

use service::{copy_dir, run as legemiddel};

/// `legemiddel --rules RULES rules import-h-list SHEET --from DATE`.
fn import(rules: &str, sheet: &Path, from: &str) -> (i32, String) {
    legemiddel(&[
        "--rules",
        rules,
        "rules",
        "import-h-list",
        sheet.to_str().unwrap(),
        "--from",
        from,
    ])
}

/// A sheet as the directorate publishes it: a title line, then the headings, then one medicine
/// per row.
fn sheet(path: &Path, rows: &[[&str; 4]]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "Legemidler som RHF-ene har finansieringsansvar for")
        .unwrap();
    for (c, h) in ["Virkestoff", "ATC-kode", "Handelsnavn", "Bruksområde"]
        .iter()
        .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(3 + r as u32, c as u16, *v).unwrap();
        }
    }
    book.save(path).unwrap();
}

#[test]
fn the_directorates_sheet_becomes_a_dated_list_file_that_decides() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("legemiddel-hlist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rules = dir.join("rules");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules"),
        &rules,
    );
    let r = rules.to_str().unwrap();
    let xlsx = dir.join("h-liste.xlsx");
    sheet(
        &xlsx,
        &[
            [
                "etanercept",
                "L04AB01",
                "Enbrel, Benepali",
                "Revmatologi, gastroenterologi og dermatologi",
            ],
            [
                "etanercept",
                "L04AB01",
                "Erelzi",
                "Revmatologi, gastroenterologi og dermatologi",
            ],
            ["deflazacort", "H02AB13", "", "Duchenne muskeldystrofi"],
            ["tocilizumab", "L04AC07", "RoActemra", "Revmatoid artritt"],
        ],
    );
    let (code, said) = import(r, &xlsx, "2027-01-01");
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("2 legemidler nye på listen fra 2027-01-01, 1 stod der allerede"),
        "{said}"
    );
    let written = std::fs::read_to_string(rules.join("h-list/2027-01-01.toml")).unwrap();
    assert!(
        written.contains(r#"brands = ["Enbrel", "Benepali", "Erelzi"]"#),
        "{written}"
    );
    assert!(
        !written.contains("deflazacort"),
        "already listed: {written}"
    );

    // It loads with the rest and decides from its date: etanercept (the trade names listed, F4)
    // is the RHF's from 2027.
    let decide = |date: &str| {
        let request = format!(
            r#"{{"date":"{date}","drug":{{"atc":"L04AB01","substance":"etanercept","brand":"Erelzi"}},"prescriber":{{"role":"hospital_doctor"}}}}"#
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_legemiddel"))
            .args(["--rules", r, "decide"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(
        decide("2027-01-02").contains(r#""payer":"rhf""#),
        "{}",
        decide("2027-01-02")
    );
    assert!(!decide("2026-12-31").contains(r#""payer":"rhf""#));

    // Again: the file is there, nothing is overwritten.
    let (code, said) = import(r, &xlsx, "2027-01-01");
    assert_eq!(code, 0, "everything is already listed: {said}");
    assert!(said.contains("ingenting å skrive"), "{said}");

    // A bad ATC code is named by its row, and nothing is written.
    let bad = dir.join("feil.xlsx");
    sheet(&bad, &[["rituksimab", "L01XC2", "MabThera", "Lymfom"]]);
    let (code, said) = import(r, &bad, "2027-06-01");
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("rad 4") && said.contains("L01XC2"), "{said}");
    assert!(!rules.join("h-list/2027-06-01.toml").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
