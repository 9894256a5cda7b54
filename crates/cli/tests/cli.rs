//! The `legemiddel` command as a user runs it: the commands besides the decision cases, the
//! rule data options, and exit statuses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn legemiddel(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_legemiddel"))
        .args(args)
        .env_remove("LEGEMIDDEL_RULES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // The command may exit before reading its input (bad arguments, bad rule data): a closed
    // pipe here is part of what is being tested, not a failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A fresh copy of `rules/` in a temporary folder, removed on drop.
struct RulesCopy(PathBuf);

impl RulesCopy {
    fn new(name: &str) -> RulesCopy {
        let dir =
            std::env::temp_dir().join(format!("legemiddel-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&workspace().join("rules"), &dir);
        RulesCopy(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for RulesCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

mod service;

use service::copy_dir;

const ATORVASTATIN_2027: &str = r#"{"date":"2027-03-01","drug":{"atc":"C10AA05","substance":"atorvastatin"},"prescriber":{"role":"hospital_doctor"},"use":{"refund_listed":true}}"#;

#[test]
fn rules_shows_what_is_in_force_with_sources() {
    let (code, out, _) = legemiddel(&["rules", "--date", "2025-01-01"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("legemiddel-regler 2026.12.3; § 1b-liste 2024-11-01"),
        "{out}"
    );
    assert!(
        out.contains("[F5]") && out.contains("H02AB13") && out.contains("tabell 1"),
        "{out}"
    );
    assert!(out.contains("[B5]") && out.contains("100 mg OMEQ"), "{out}");
    assert!(out.contains("3 278 kr"), "{out}");

    let (_, before, _) = legemiddel(&["rules", "--date", "2024-10-31"], "");
    assert!(
        !before.contains("H02AB13"),
        "the list is not in force before 2024-11-01: {before}"
    );

    let (code, json, _) = legemiddel(&["rules", "--date", "2026-06-01", "--json"], "");
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["date"], "2026-06-01");
    assert!(
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "EGENANDEL" && r["from"] == "2026-01-01")
    );
}

#[test]
fn a_bad_date_for_rules_is_a_usage_error() {
    let (code, out, err) = legemiddel(&["rules", "--date", "1. mai"], "");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("feil: --date: "), "{err}");
}

#[test]
fn a_new_list_in_a_rules_folder_needs_no_code_change() {
    let rules = RulesCopy::new("new-list");
    let (_, before, _) = legemiddel(&["--rules", rules.path(), "decide"], ATORVASTATIN_2027);
    assert!(before.contains(r#""scheme":"s2""#), "{before}");

    std::fs::write(
        rules.0.join("h-list/2027-01-01.toml"),
        "rule = \"F5\"\ntitle = \"Testliste\"\nsource = \"test\"\nbasis = \"blåreseptforskriften § 1b annet ledd og vedlegg\"\n\
         effective = 2027-01-01\n\n[[entry]]\nsubstance = \"atorvastatin\"\natc = \"C10AA05\"\nuse = \"test\"\n",
    )
    .unwrap();
    let (code, after, err) = legemiddel(&["--rules", rules.path(), "decide"], ATORVASTATIN_2027);
    assert_eq!(code, 0, "{err}");
    assert!(after.contains(r#""scheme":"h_list""#), "{after}");
    assert!(
        after.contains("§ 1b-liste 2027-01-01"),
        "the decision names the list version: {after}"
    );

    // The built-in data is unchanged.
    let (_, builtin, _) = legemiddel(&["decide"], ATORVASTATIN_2027);
    assert!(builtin.contains(r#""scheme":"s2""#), "{builtin}");
}

#[test]
fn broken_rule_data_names_file_and_line_and_exits_1() {
    let rules = RulesCopy::new("broken");
    let path = rules.0.join("b5-opioids.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("gp_max_omeq = 100", "gp_max_omeq = 100\ngp_max_omeg = 90");
    std::fs::write(&path, text).unwrap();
    let (code, out, err) = legemiddel(&["--rules", rules.path(), "decide"], ATORVASTATIN_2027);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("b5-opioids.toml:") && err.contains("gp_max_omeg"),
        "{err}"
    );
}

#[test]
fn a_missing_rules_folder_is_reported() {
    let (code, _, err) = legemiddel(
        &["--rules", "/nonexistent/legemiddel-rules", "decide"],
        ATORVASTATIN_2027,
    );
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/legemiddel-rules"), "{err}");
}

#[test]
fn empty_input_is_bad_input() {
    let (code, out, err) = legemiddel(&["decide"], "  \n");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("feil: $: "), "{err}");
}

#[test]
fn batch_answers_every_line_of_the_example() {
    let input = std::fs::read_to_string(workspace().join("examples/mixed.jsonl")).unwrap();
    let (code, out, _) = legemiddel(&["decide", "--batch"], &input);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["scheme"], "h_list");
    assert_eq!(lines[1]["scheme"], "s2");
    assert_eq!(lines[2]["scheme"], "s4");
    assert_eq!(lines[3]["error"]["field"], "drug.atc");
    assert_eq!(lines[3]["error"]["line"], 4);
    assert_eq!(lines[4]["actions"][0]["applicant"], "public_hospital");
}

#[test]
fn the_readme_examples_run() {
    for (command, file) in [
        ("decide", "deflazacort-gp.json"),
        ("decide", "oxycodone-180-gp.json"),
        ("decide", "off-label-other-hf.json"),
        ("dispense", "dispense-penicillamin-transition.json"),
    ] {
        let input = std::fs::read_to_string(workspace().join("examples").join(file)).unwrap();
        let (code, out, err) = legemiddel(&[command], &input);
        assert_eq!(code, 0, "{file}: {err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let input = std::fs::read_to_string(workspace().join("examples/deflazacort-gp.json")).unwrap();
    let (_, text, _) = legemiddel(&["decide", "--format", "text"], &input);
    assert!(
        text.starts_with("Betaler:     regionalt helseforetak (RHF)"),
        "{text}"
    );
    assert!(text.contains("Hjemler:") && text.contains("✓ F3"), "{text}");
    let (_, pretty, _) = legemiddel(&["decide", "--format", "pretty"], &input);
    assert!(pretty.contains("\n  \"payer\": \"rhf\""), "{pretty}");
}

#[test]
fn help_is_in_norwegian_at_every_level() {
    for args in [
        &["--help"][..],
        &["settle", "export", "--help"],
        &["fest", "--help"],
        &["stats", "top", "--help"],
        &["decide", "--help"],
    ] {
        let (code, out, _) = legemiddel(args, "");
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains("Bruk: legemiddel"), "{args:?}: {out}");
        assert!(
            out.contains("Valg:") && out.contains("Vis denne hjelpen"),
            "{args:?}: {out}"
        );
        for english in [
            "Usage:",
            "Options:",
            "Commands:",
            "Print help",
            "[OPTIONS]",
            "<PERIOD>",
            "[default:",
            "[possible values:",
        ] {
            assert!(!out.contains(english), "{args:?} says «{english}»: {out}");
        }
    }
    // clap's own errors too: a wrong option, a wrong command, a missing value.
    for (args, says) in [
        (
            &["decide", "--rulez", "x"][..],
            "ukjent valg eller argument «--rulez» (mente du «--rules»?)",
        ),
        (&["frobnicate"], "ukjent kommando «frobnicate»"),
        (
            &["settle", "export", "--payer", "hf"],
            "mangler --period <ÅÅÅÅ-MM>, --out <FIL>",
        ),
    ] {
        let (code, out, err) = legemiddel(args, "");
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        assert!(
            err.starts_with("feil: ") && err.contains(says),
            "{args:?}: {err}"
        );
        for english in ["error:", "Usage:", "For more information", "[OPTIONS]"] {
            assert!(!err.contains(english), "{args:?} says «{english}»: {err}");
        }
    }
    let (_, out, _) = legemiddel(&["--help"], "");
    assert!(
        out.contains("Kommandoer:") && out.contains("Vis versjonen"),
        "{out}"
    );
}
