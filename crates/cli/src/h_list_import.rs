//! `legemiddel rules import-h-list FILE.xlsx --from DATE`: the § 1b list from Helsedirektoratet's
//! spreadsheet to a dated rule file. The workbook is read here (calamine); what the rows mean is
//! decided by `ruleset::h_list_import`, and the result is loaded with the rest of the rule data
//! before it is kept, so a file that would not load is never left behind.

use std::path::Path;

use anyhow::Context;
use calamine::{Reader, open_workbook_auto};
use contract::ContractError;
use domain::Date;
use ruleset::RuleSet;

use crate::Failure;

pub fn run(
    rules: &RuleSet,
    rules_dir: Option<&Path>,
    file: &Path,
    from: &str,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let effective = Date::parse(from)
        .map_err(|e| Failure::BadInput(ContractError::new("--from", e.to_string())))?;
    let mut book = open_workbook_auto(file).with_context(|| {
        format!(
            "{} kan ikke leses som et regneark (.xlsx, .xls)",
            file.display()
        )
    })?;
    let range = book
        .worksheet_range_at(0)
        .context("regnearket har ingen ark")?
        .with_context(|| format!("det første arket i {} kan ikke leses", file.display()))?;
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let imported = match ruleset::h_list_import::from_rows(&rows, effective, &name, &rules.h_list) {
        Ok(i) => i,
        Err(errors) => {
            for e in &errors {
                eprintln!("feil: {name}, {e}");
            }
            return Err(Failure::Other(anyhow::anyhow!(
                "{} rader kan ikke leses: ingen fil skrevet",
                errors.len()
            )));
        }
    };
    println!(
        "{name}: {} legemidler nye på listen fra {effective}, {} stod der allerede",
        imported.written,
        imported.already_listed.len()
    );
    if imported.written == 0 {
        println!("ingenting å skrive: listen i regeldataene har alt fra regnearket");
        return Ok(());
    }
    let dir = match (out, rules_dir) {
        (Some(o), _) => o.to_path_buf(),
        (None, Some(r)) => r.join("h-list"),
        (None, None) => Path::new("rules").join("h-list"),
    };
    let target = dir.join(format!("{effective}.toml"));
    if target.exists() {
        return Err(Failure::Other(anyhow::anyhow!(
            "{} finnes allerede: flytt eller fjern den først (ingenting er endret)",
            target.display()
        )));
    }
    // The new file must load together with the data in use (no medicine twice on one day).
    let relative = format!("h-list/{effective}.toml");
    let mut files: Vec<(String, String)> = RuleSet::embedded_files()
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    if let Some(r) = rules_dir {
        files.clear();
        crate::read_toml_files(r, r, &mut files).context("leser regeldataene")?;
    }
    files.push((relative, imported.toml.clone()));
    RuleSet::load(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
        .context("den nye listefilen passer ikke med regeldataene; ingen fil skrevet")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("lager {}", dir.display()))?;
    std::fs::write(&target, &imported.toml)
        .with_context(|| format!("skriver {}", target.display()))?;
    println!("skrevet: {}", target.display());
    if rules_dir.is_none() {
        println!(
            "regeldataene er bygget inn i programmet: bygg på nytt, eller bruk --rules med mappen filen ligger i"
        );
    }
    Ok(())
}
