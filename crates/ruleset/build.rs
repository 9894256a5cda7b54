//! Embeds every `*.toml` under the workspace's `rules/` folder, so that the binary carries the
//! rule data it was built with and a new data file needs no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let rules = manifest
        .join("../../rules")
        .canonicalize()
        .expect("the workspace has a rules/ folder");
    println!("cargo:rerun-if-changed={}", rules.display());

    let mut files = Vec::new();
    collect(&rules, &rules, &mut files);
    files.sort();

    let mut out = String::from(
        "/// The rule data files under `rules/`, as (path relative to `rules/`, text).\n",
    );
    out.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        writeln!(out, "    ({relative:?}, include_str!({absolute:?})),").unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("embedded.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("rules/ is readable") {
        let path = entry.expect("rules/ entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "toml") {
            let relative = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            files.push((relative, path.to_string_lossy().into_owned()));
        }
    }
}
