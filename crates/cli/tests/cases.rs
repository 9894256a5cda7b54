//! The decision cases (`cases/*.toml`) and the contract's examples
//! (`shared/contract/examples/*.json`), run through the real `legemiddel` binary as a user
//! would run it: request on standard input, decision on standard output, exit status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What running the binary gave.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &str, stdin: &str, rules: Option<&Path>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_legemiddel"));
    if let Some(dir) = rules {
        cmd.arg("--rules").arg(dir);
    }
    let mut child = cmd
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the legemiddel binary starts");
    // A closed pipe (the command exited before reading) shows in the exit status below.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("the binary finishes");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// The contract's reading of `expect`: listed fields equal; for `actions` and `blockers`, each
/// listed object present with its listed keys equal, and an empty list means none present.
fn mismatches(actual: &Value, expect: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, want) in expect {
        let got = actual.get(key).unwrap_or(&Value::Null);
        match (key.as_str(), want) {
            ("actions" | "blockers", Value::Array(wanted)) => {
                let got_list = got.as_array().cloned().unwrap_or_default();
                if wanted.is_empty() && !got_list.is_empty() {
                    out.push(format!("{key}: ventet ingen, fikk {got}"));
                }
                for w in wanted {
                    let w = w
                        .as_object()
                        .expect("expected actions/blockers are objects");
                    let found = got_list
                        .iter()
                        .any(|g| w.iter().all(|(k, v)| g.get(k) == Some(v)));
                    if !found {
                        out.push(format!(
                            "{key}: mangler {}, fikk {got}",
                            Value::Object(w.clone())
                        ));
                    }
                }
            }
            _ if got != want => out.push(format!("{key}: ventet {want}, fikk {got}")),
            _ => {}
        }
    }
    out
}

/// `base` with `over` merged in, recursively for objects.
fn merged(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut m = b.clone();
            for (k, v) in o {
                let merged_value = match m.get(k) {
                    Some(existing) => merged(existing, v),
                    None => v.clone(),
                };
                m.insert(k.clone(), merged_value);
            }
            Value::Object(m)
        }
        (_, o) => o.clone(),
    }
}

/// One case, as written in a case file.
struct Case {
    file: String,
    name: String,
    rule: String,
    command: String,
    request: String,
    expect: Option<Map<String, Value>>,
    expect_error: Option<String>,
    applied: Vec<String>,
    /// The rule data the file's cases run on, when the file replaces some of `rules/` (its
    /// top-level `[rules]` table: file name → text), e.g. to announce a G3 replacement.
    rules: Option<PathBuf>,
}

/// `rules/` with the files a case file replaces, written to a folder of its own.
fn rules_with(file: &str, replaced: &Map<String, Value>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "legemiddel-case-rules-{}-{}",
        std::process::id(),
        file.trim_end_matches(".toml")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&workspace().join("rules"), &dir);
    for (name, text) in replaced {
        let path = dir.join(name);
        assert!(
            path.exists(),
            "{file}: [rules] names {name}, which rules/ does not have"
        );
        std::fs::write(
            path,
            text.as_str().expect("[rules] values are the files' text"),
        )
        .unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn load_cases() -> Vec<Case> {
    let dir = workspace().join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("cases/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).expect("readable case file");
        let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let doc = serde_json::to_value(doc).expect("TOML as JSON");
        let defaults = doc
            .pointer("/defaults/request")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let rules = doc
            .get("rules")
            .map(|r| rules_with(&file, r.as_object().expect("[rules] is a table")));
        for key in doc.as_object().unwrap().keys() {
            assert!(
                key == "defaults" || key == "case" || key == "rules",
                "{file}: unknown top-level key {key}"
            );
        }
        for c in doc["case"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no [[case]]"))
        {
            let obj = c.as_object().unwrap();
            for key in obj.keys() {
                assert!(
                    [
                        "name",
                        "rule",
                        "reason",
                        "command",
                        "request",
                        "request_json",
                        "expect",
                        "expect_error",
                        "applied"
                    ]
                    .contains(&key.as_str()),
                    "{file}: unknown key {key} in case {c}"
                );
            }
            let name = c["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: case without name"))
                .to_string();
            let rule = c["rule"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: {name}: no rule"))
                .to_string();
            assert!(
                c["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{file}: {name}: no reason"
            );
            let request = match (c.get("request_json"), c.get("request")) {
                (Some(raw), None) => raw.as_str().unwrap().to_string(),
                (None, Some(req)) => merged(&defaults, req).to_string(),
                _ => panic!("{file}: {name}: give exactly one of request, request_json"),
            };
            let expect = c.get("expect").map(|e| e.as_object().unwrap().clone());
            let expect_error = c
                .get("expect_error")
                .map(|e| e.as_str().unwrap().to_string());
            assert!(
                expect.is_some() != expect_error.is_some(),
                "{file}: {name}: give exactly one of expect, expect_error"
            );
            cases.push(Case {
                file: file.clone(),
                name,
                rule,
                command: c
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or("decide")
                    .to_string(),
                request,
                expect,
                expect_error,
                applied: c
                    .get("applied")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
                rules: rules.clone(),
            });
        }
    }
    cases
}

fn check_case(c: &Case) -> Vec<String> {
    let r = run(&c.command, &c.request, c.rules.as_deref());
    if let Some(field) = &c.expect_error {
        let mut out = Vec::new();
        if r.status != 2 {
            out.push(format!("exit {} (ventet 2)", r.status));
        }
        if !r.stdout.is_empty() {
            out.push(format!("standard ut er ikke tom: {}", r.stdout));
        }
        let prefix = format!("feil: {field}: ");
        if !r.stderr.starts_with(&prefix) || r.stderr.trim_end().contains('\n') {
            out.push(format!(
                "standard feil skulle være én linje som begynner med «{prefix}», var «{}»",
                r.stderr.trim_end()
            ));
        }
        return out;
    }
    if r.status != 0 {
        return vec![format!("exit {}: {}", r.status, r.stderr.trim_end())];
    }
    let actual: Value = match serde_json::from_str(&r.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("standard ut er ikke JSON ({e}): {}", r.stdout)],
    };
    let mut out = mismatches(&actual, c.expect.as_ref().unwrap());
    let steps = actual["explanation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let step = |rule: &str, applied: Option<bool>| {
        steps
            .iter()
            .any(|s| s["rule"] == rule && applied.is_none_or(|a| s["applied"] == a))
    };
    if !step(&c.rule, None) {
        out.push(format!("regelen {} er ikke med i forklaringen", c.rule));
    }
    for rule in &c.applied {
        if !step(rule, Some(true)) {
            out.push(format!(
                "regelen {rule} er ikke brukt (applied) i forklaringen"
            ));
        }
    }
    if actual["citations"].as_array().is_none_or(|c| c.is_empty()) {
        out.push("ingen hjemmel (citations)".into());
    }
    out
}

#[test]
fn decision_cases() {
    let cases = load_cases();
    assert!(
        cases.len() >= 100,
        "the suite should have at least 100 cases, has {}",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|c| {
            check_case(c)
                .into_iter()
                .map(move |m| format!("{} «{}» [{}]: {m}", c.file, c.name, c.rule))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn contract_examples_pass() {
    let dir = workspace().join("../shared/contract/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the contract examples are read from {} ({e}); shared/ must be beside the checkout",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let example: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let command = example
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or("decide");
        let r = run(command, &example["request"].to_string(), None);
        let name = path.file_name().unwrap().to_string_lossy();
        if r.status != 0 {
            failures.push(format!("{name}: exit {}: {}", r.status, r.stderr));
            continue;
        }
        let actual: Value = serde_json::from_str(&r.stdout).unwrap();
        for m in mismatches(&actual, example["expect"].as_object().unwrap()) {
            failures.push(format!("{name}: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule id of `shared/domain.md` is exercised by some case, except those that belong to
/// parts of the product that do not decide payment (listed here with where they will live).
#[test]
fn every_rule_id_in_the_domain_is_covered() {
    let not_decided_here = [
        (
            "G4",
            "exemptions in shortages: the approval-exemption workflow (cases::exemption, part 2)",
        ),
        ("E1", "stockpile sizing: stockpiles (part 4)"),
        ("E2", "specialist-care stock: stockpiles (part 4)"),
        ("E3", "first expiry, first out: stockpiles (part 4)"),
        ("E4", "rationing: stockpiles (part 4)"),
    ];
    let domain =
        std::fs::read_to_string(workspace().join("../shared/domain.md")).expect("shared/domain.md");
    // A rule is introduced as `**F1 …` or `**E1**`: a bold capital letter and digit.
    let mut ids: Vec<String> = domain
        .match_indices("**")
        .filter_map(|(i, _)| {
            let after = &domain.as_bytes()[i + 2..];
            let id_like = after.len() >= 3
                && after[0].is_ascii_uppercase()
                && after[1].is_ascii_digit()
                && matches!(after[2], b' ' | b'*');
            id_like.then(|| domain[i + 2..i + 4].to_string())
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert!(ids.len() >= 25, "found only {ids:?} in domain.md");
    let cases = load_cases();
    let covered: std::collections::BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| std::iter::once(c.rule.as_str()).chain(c.applied.iter().map(String::as_str)))
        .collect();
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| {
            !covered.contains(id.as_str()) && !not_decided_here.iter().any(|(n, _)| n == id)
        })
        .collect();
    assert!(missing.is_empty(), "rule ids without a case: {missing:?}");
    for (id, _) in not_decided_here {
        assert!(
            !covered.contains(id),
            "{id} now has a case: remove it from the not-decided list"
        );
    }
}
