//! Generated files are valid against DMP's M30 schema (checked with `xmllint --schema`, from
//! Debian's libxml2-utils, installed by `.ci/run`), and the parser never panics on damaged input:
//! truncated anywhere, bytes changed anywhere, or tags shuffled.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

fn generated(packages: usize) -> Vec<u8> {
    let mut out = Vec::new();
    fest::generate::write(
        &mut out,
        &fest::generate::Options {
            packages,
            ..Default::default()
        },
    )
    .unwrap();
    out
}

#[test]
fn generated_files_are_valid_against_the_m30_schema() {
    let required = std::env::var("LEGEMIDDEL_REQUIRE_XMLLINT").is_ok_and(|v| v == "1");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/standards/eresept/skjema/eresept/ER-M30-2014-12-01.xsd");
    if Command::new("xmllint").arg("--version").output().is_err() {
        assert!(
            !required,
            "LEGEMIDDEL_REQUIRE_XMLLINT=1 but xmllint is not installed"
        );
        eprintln!("schema test SKIPPED: install libxml2-utils (or run .ci/run)");
        return;
    }
    assert!(
        schema.exists(),
        "the schema is read from ../shared: {}",
        schema.display()
    );
    for packages in [1, 37, 600] {
        let file = std::env::temp_dir().join(format!(
            "legemiddel-fest-{}-{packages}.xml",
            std::process::id()
        ));
        std::fs::write(&file, generated(packages)).unwrap();
        let out = Command::new("xmllint")
            .args(["--noout", "--stream", "--schema"])
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(
            out.status.success(),
            "{packages} packages: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn damaged_files_are_refused_never_panicked_on(cut in 0.0f64..1.0, flips in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..8), keep_tail in any::<bool>()) {
        let mut bytes = generated(12);
        for (at, byte) in flips {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = byte;
        }
        let n = (bytes.len() as f64 * cut) as usize;
        let damaged: Vec<u8> = if keep_tail { bytes } else { bytes[..n].to_vec() };
        // Whatever the damage, an answer: a catalogue or an error with a position.
        match fest::parse(&damaged[..], |_| {}) {
            Ok(cat) => prop_assert!(!cat.retrieved.is_empty()),
            Err(e) => prop_assert!(e.position as usize <= damaged.len() + 1),
        }
    }
}
