//! The § 1b list as Helsedirektoratet publishes it — a spreadsheet, one medicine per row — turned
//! into a dated rule file (`rules/h-list/DATE.toml`, F5). Pure: the caller reads the workbook and
//! hands over its rows as text.
//!
//! The columns are found by their headings, not their position (the published file has changed
//! layout over the years): the first row that names both a substance (`virkestoff`) and an ATC
//! code is the heading row; trade names (`handelsnavn`, `preparat`) and the use (`bruksområde`,
//! `indikasjon`, `terapiområde`) are read where present. Medicines already on the list on the
//! date are left out and counted, so the file adds to the list rather than repeating it (two
//! entries for one medicine in force on the same day are refused on load).

use std::fmt::Write as _;

use domain::{Atc, Date};

use crate::HList;

/// What the import made of the rows.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    /// The rule file's text.
    pub toml: String,
    /// Entries written.
    pub written: usize,
    /// Rows for medicines already on the list on the date, left out.
    pub already_listed: Vec<String>,
}

/// A row that cannot be read: its 1-based row number in the sheet and why.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("rad {row}: {message}")]
pub struct RowError {
    /// Row number, as the spreadsheet shows it.
    pub row: usize,
    /// What is wrong.
    pub message: String,
}

fn column(headings: &[String], names: &[&str]) -> Option<usize> {
    headings.iter().position(|h| {
        let h = h.trim().to_lowercase();
        names.iter().any(|n| h.contains(n))
    })
}

fn quote(text: &str) -> String {
    // TOML basic string: backslash and quote escaped, control characters as spaces.
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Turns the sheet's rows into a rule file in force from `effective`, leaving out what `list`
/// already holds on that date. Every unreadable row is reported, not just the first.
pub fn from_rows(
    rows: &[Vec<String>],
    effective: Date,
    source: &str,
    list: &HList,
) -> Result<Imported, Vec<RowError>> {
    let heading_row = rows
        .iter()
        .position(|r| column(r, &["virkestoff"]).is_some() && column(r, &["atc"]).is_some());
    let Some(h) = heading_row else {
        return Err(vec![RowError {
            row: 1,
            message: "fant ingen overskriftsrad med både «Virkestoff» og «ATC»".into(),
        }]);
    };
    let headings = &rows[h];
    let (substance_col, atc_col) = (
        column(headings, &["virkestoff"]).unwrap_or(0),
        column(headings, &["atc"]).unwrap_or(0),
    );
    let brand_col = column(headings, &["handelsnavn", "preparat"]);
    let use_col = column(headings, &["bruksområde", "indikasjon", "terapiområde"]);
    let cell = |r: &Vec<String>, c: usize| r.get(c).map_or("", |s| s.trim()).to_string();

    let mut errors = Vec::new();
    let mut already = Vec::new();
    let mut entries: Vec<(String, Atc, Vec<String>, String)> = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(h + 1) {
        let row = i + 1;
        let substance = cell(r, substance_col);
        let atc_text = cell(r, atc_col);
        if substance.is_empty() && atc_text.is_empty() {
            continue;
        }
        if substance.is_empty() {
            errors.push(RowError {
                row,
                message: "virkestoff mangler".into(),
            });
            continue;
        }
        let atc = match Atc::parse(&atc_text) {
            Ok(a) => a,
            Err(e) => {
                errors.push(RowError {
                    row,
                    message: format!("ATC-koden «{atc_text}»: {e}"),
                });
                continue;
            }
        };
        let brands: Vec<String> = brand_col
            .map(|c| cell(r, c))
            .unwrap_or_default()
            .split([',', ';', '/'])
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_string)
            .collect();
        let usage = use_col.map(|c| cell(r, c)).unwrap_or_default();
        let folded = substance.to_lowercase();
        let listed = list
            .candidates(&atc)
            .any(|e| e.period.contains(effective) && e.atc == atc && e.substance_folded == folded);
        if listed {
            already.push(format!("{substance} ({atc})"));
            continue;
        }
        // The same medicine twice in the sheet: one entry, the trade names together.
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.1 == atc && e.0.to_lowercase() == folded)
        {
            for b in brands {
                if !e.2.contains(&b) {
                    e.2.push(b);
                }
            }
            continue;
        }
        entries.push((substance, atc, brands, usage));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "# Imported by `legemiddel rules import-h-list` from {source}."
    );
    let _ = writeln!(toml, "rule = \"F5\"");
    let _ = writeln!(
        toml,
        "title = {}",
        quote(&format!("§ 1b-listen fra {effective}"))
    );
    let _ = writeln!(
        toml,
        "source = {}",
        quote(&format!("Helsedirektoratet: {source}"))
    );
    let _ = writeln!(toml, "basis = \"blåreseptforskriften § 1b\"");
    let _ = writeln!(toml, "effective = {effective}");
    if !already.is_empty() {
        let _ = writeln!(
            toml,
            "note = {}",
            quote(&format!(
                "{} medisiner i regnearket stod allerede på listen {effective} og er utelatt her.",
                already.len()
            ))
        );
    }
    for (substance, atc, brands, usage) in &entries {
        let _ = writeln!(toml, "\n[[entry]]");
        let _ = writeln!(toml, "substance = {}", quote(substance));
        let _ = writeln!(toml, "atc = \"{atc}\"");
        if !brands.is_empty() {
            let list: Vec<String> = brands.iter().map(|b| quote(b)).collect();
            let _ = writeln!(toml, "brands = [{}]", list.join(", "));
        }
        let usage = if usage.is_empty() {
            "(ikke oppgitt i listen)"
        } else {
            usage
        };
        let _ = writeln!(toml, "use = {}", quote(usage));
    }
    Ok(Imported {
        toml,
        written: entries.len(),
        already_listed: already,
    })
}
