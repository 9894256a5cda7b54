//! `legemiddel simulate --rules DIR [--from D] [--to D]`: what a proposed rule set would change.
//! Every decision in the audit trail for the period (single decisions and batches) is decided
//! again under the rule data of `--rules`, on every core, and set beside the answer that was
//! given; [`decide::impact`] counts the changes per transition and per medicine. A decision
//! made by varenummer is completed from the FEST snapshot it was made on, as `audit replay`
//! does.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use decide::impact::{Impact, Outcome};
use rayon::prelude::*;
use ruleset::RuleSet;
use store::{Location, Store};

use crate::Failure;

/// One decision to replay.
struct Item {
    request: String,
    before: Outcome,
    medicine: String,
    example: String,
    /// The FEST snapshot a decision by varenummer was made on.
    snapshot: Option<String>,
}

/// The parts of a recorded answer the comparison reads (the rest is skipped unparsed).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Answer {
    payer: String,
    scheme: String,
    prescription: String,
    blockers: Vec<Code>,
    error: Option<ErrorField>,
    catalogue: Option<Snapshot>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Code {
    code: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ErrorField {
    field: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Snapshot {
    snapshot: Option<String>,
}

/// The parts of a request that name the medicine.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Named {
    drug: NamedDrug,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct NamedDrug {
    atc: Option<String>,
    substance: Option<String>,
    varenr: Option<String>,
}

/// What a recorded answer said.
fn outcome_of(answer: &Answer) -> Outcome {
    if let Some(e) = &answer.error {
        return Outcome::Error(e.field.clone());
    }
    let mut blockers: Vec<String> = answer.blockers.iter().map(|b| b.code.clone()).collect();
    blockers.sort();
    Outcome::Decided {
        payer: answer.payer.clone(),
        scheme: answer.scheme.clone(),
        prescription: answer.prescription.clone(),
        blockers,
    }
}

/// The medicine a request is about, as the table names it.
fn medicine_of(request: &str) -> String {
    let named: Named = serde_json::from_str(request).unwrap_or_default();
    let d = named.drug;
    match (d.atc, d.substance, d.varenr) {
        (Some(a), Some(s), _) => format!("{a} {s}"),
        (Some(a), None, _) => a,
        (None, _, Some(v)) => format!("varenr {v}"),
        _ => "ukjent".into(),
    }
}

/// The decisions of one audit record, or none if it is not a decision.
fn items(record: &store::Record) -> Vec<Item> {
    use serde_json::value::RawValue;
    let c = &record.content;
    let pairs: Vec<(&str, Answer)> = match c.action.as_str() {
        "decide" => match serde_json::from_str::<Answer>(&c.response) {
            Ok(a) => vec![(c.request.as_str(), a)],
            Err(_) => Vec::new(),
        },
        "decide_batch" => match (
            serde_json::from_str::<Vec<&RawValue>>(&c.request),
            serde_json::from_str::<Vec<Answer>>(&c.response),
        ) {
            (Ok(q), Ok(a)) if q.len() == a.len() => {
                q.into_iter().map(RawValue::get).zip(a).collect()
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let many = pairs.len() > 1;
    pairs
        .into_iter()
        .enumerate()
        .map(|(i, (q, a))| Item {
            request: q.to_string(),
            before: outcome_of(&a),
            medicine: medicine_of(q),
            example: if many {
                format!("post {}[{i}]", record.seq)
            } else {
                format!("post {}", record.seq)
            },
            snapshot: a.catalogue.and_then(|c| c.snapshot),
        })
        .collect()
}

type Catalogues = HashMap<String, Arc<(fest::Catalogue, fest::Index)>>;

/// The decision now, under `rules`.
fn decide_now(item: &Item, rules: &RuleSet, catalogues: &Catalogues) -> Outcome {
    let bytes = item.request.as_bytes();
    let completed;
    let request = if contract::catalogue::names_product(bytes) {
        let Some(c) = item.snapshot.as_ref().and_then(|s| catalogues.get(s)) else {
            return Outcome::Error("drug.varenr".into());
        };
        match contract::catalogue::complete(bytes, Some((&c.0, &c.1))) {
            Ok(Some((done, _))) => {
                completed = done;
                &completed[..]
            }
            Ok(None) => bytes,
            Err(e) => return Outcome::Error(e.field.to_string()),
        }
    } else {
        bytes
    };
    match contract::parse_decision_request(request) {
        Ok(req) => match decide::decide(&req, rules) {
            Ok(d) => Outcome::of(&d),
            Err(e) => Outcome::Error(e.field().to_string()),
        },
        Err(e) => Outcome::Error(e.field.to_string()),
    }
}

/// Replays the period and returns the comparison.
pub fn replay(
    location: &Location,
    rules: &RuleSet,
    from: Option<domain::Date>,
    to: Option<domain::Date>,
    examples: usize,
) -> Result<Impact, Failure> {
    let rt = crate::service::runtime()?;
    let store = rt
        .block_on(Store::open(location))
        .with_context(|| location.describe())?;
    let (from, to) = (from.map(|d| d.to_string()), to.map(|d| d.to_string()));
    let in_period = |at: &str| {
        let day = &at[..at.len().min(10)];
        from.as_deref().is_none_or(|f| day >= f) && to.as_deref().is_none_or(|t| day <= t)
    };
    let tty = std::io::stderr().is_terminal();
    let mut catalogues: Catalogues = HashMap::new();
    let mut impact = Impact::new(examples);
    // A page of the trail at a time: a batch record holds hundreds of decisions, so the page is
    // small and memory stays bounded.
    let mut seq = 0;
    let started = std::time::Instant::now();
    loop {
        let page = rt
            .block_on(store.audit_after(seq, 100))
            .context("leser revisjonsloggen")?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        let batch: Vec<Item> = page
            .iter()
            .filter(|r| in_period(&r.content.at))
            .flat_map(items)
            .collect();
        for name in batch.iter().filter_map(|i| i.snapshot.as_ref()) {
            if catalogues.contains_key(name) {
                continue;
            }
            let snapshots = rt.block_on(store.snapshots()).context("leser FEST")?;
            if let Some(s) = snapshots.into_iter().find(|s| &s.retrieved == name) {
                let cat = rt.block_on(store.catalogue(&s)).context("leser FEST")?;
                let index = fest::Index::new(&cat);
                catalogues.insert(name.clone(), Arc::new((cat, index)));
            }
        }
        let part = batch
            .par_chunks(512)
            .map(|chunk| {
                let mut part = Impact::new(examples);
                for item in chunk {
                    let after = decide_now(item, rules, &catalogues);
                    part.add(&item.medicine, &item.before, &after, &item.example);
                }
                part
            })
            .reduce(
                || Impact::new(examples),
                |mut a, b| {
                    a.merge(b);
                    a
                },
            );
        impact.merge(part);
        if tty {
            eprint!("\rspilt av: {} beslutninger (post {seq})", impact.decisions);
            let _ = std::io::stderr().flush();
        }
    }
    if tty {
        eprintln!();
    }
    eprintln!(
        "{} beslutninger spilt av på {:.1} s; {} ville blitt endret",
        impact.decisions,
        started.elapsed().as_secs_f64(),
        impact.changed
    );
    Ok(impact)
}

fn field_name(field: &str) -> &'static str {
    match field {
        "payer" => "betaler",
        "scheme" => "ordning",
        "prescription" => "resept",
        _ => "hindringer",
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The transitions as CSV: `field,from,to,decisions,examples`.
pub fn transitions_csv(i: &Impact) -> String {
    let mut out = String::from("field,from,to,decisions,examples\n");
    for (t, c) in i.ranked() {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            t.field,
            csv_field(&t.from),
            csv_field(&t.to),
            c.decisions,
            csv_field(&c.examples.join(" "))
        ));
    }
    out
}

/// Per medicine as CSV: `medicine,decisions,changed,transitions`.
pub fn medicines_csv(i: &Impact) -> String {
    let mut rows: Vec<_> = i.medicines.iter().collect();
    rows.sort_by(|a, b| b.1.changed.cmp(&a.1.changed).then_with(|| a.0.cmp(b.0)));
    let mut out = String::from("medicine,decisions,changed,transitions\n");
    for (name, m) in rows {
        let ts: Vec<String> = m
            .transitions
            .iter()
            .map(|(t, n)| format!("{}: {} → {} ({n})", t.field, t.from, t.to))
            .collect();
        out.push_str(&format!(
            "{},{},{},{}\n",
            csv_field(name),
            m.decisions,
            m.changed,
            csv_field(&ts.join("; "))
        ));
    }
    out
}

/// The comparison for a person: totals, transitions with examples, the medicines most changed.
pub fn text(i: &Impact, label: &str) -> String {
    let mut out = format!(
        "Regeldata som prøves: {label}\n{} beslutninger spilt av, {} ville blitt endret ({:.1} %).\n",
        i.decisions,
        i.changed,
        if i.decisions == 0 {
            0.0
        } else {
            i.changed as f64 * 100.0 / i.decisions as f64
        }
    );
    if i.transitions.is_empty() {
        out.push_str("Ingen endringer.\n");
        return out;
    }
    out.push_str("\nEndringer:\n");
    for (t, c) in i.ranked() {
        out.push_str(&format!(
            "  {:<10} {} → {}: {} (f.eks. {})\n",
            field_name(t.field),
            t.from,
            t.to,
            c.decisions,
            c.examples.join(", ")
        ));
    }
    let mut rows: Vec<_> = i.medicines.iter().filter(|m| m.1.changed > 0).collect();
    rows.sort_by(|a, b| b.1.changed.cmp(&a.1.changed).then_with(|| a.0.cmp(b.0)));
    out.push_str("\nLegemidler med endringer:\n");
    for (name, m) in rows.iter().take(25) {
        out.push_str(&format!("  {name}: {} av {}\n", m.changed, m.decisions));
    }
    if rows.len() > 25 {
        out.push_str(&format!(
            "  … og {} til (--table medicines gir alle)\n",
            rows.len() - 25
        ));
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The transitions as a bar chart (SVG).
pub fn svg(i: &Impact) -> String {
    use std::fmt::Write as _;
    let rows: Vec<_> = i.ranked().into_iter().take(30).collect();
    let max = rows.iter().map(|r| r.1.decisions).max().unwrap_or(1).max(1) as f64;
    let (left, width, row) = (380.0, 420.0, 22.0);
    let height = 40.0 + row * rows.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" role="img" aria-labelledby="t" font-family="sans-serif" font-size="12"><title id="t">Endringer med de foreslåtte regeldataene ({n} av {d} beslutninger)</title>"#,
        w = left + width + 80.0,
        n = i.changed,
        d = i.decisions
    );
    for (k, (t, c)) in rows.iter().enumerate() {
        let y = 20.0 + row * k as f64;
        let label = format!("{}: {} → {}", field_name(t.field), t.from, t.to);
        let _ = write!(
            svg,
            r##"<text x="{tx}" y="{ty}" text-anchor="end">{label}</text><rect x="{left}" y="{y}" width="{bw:.1}" height="14" fill="#1f5fa0"><title>{label}: {n}</title></rect><text x="{vx:.1}" y="{ty}">{n}</text>"##,
            tx = left - 6.0,
            ty = y + 11.0,
            label = escape(&label),
            bw = width * c.decisions as f64 / max,
            vx = left + width * c.decisions as f64 / max + 4.0,
            n = c.decisions,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// `simulate`: replays, then writes the table asked for.
#[allow(clippy::too_many_arguments)]
pub fn run(
    location: &Location,
    rules: &RuleSet,
    rules_given: bool,
    from: Option<domain::Date>,
    to: Option<domain::Date>,
    format: &str,
    table: &str,
    examples: usize,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let bad = |field: &str, message: String| {
        Failure::BadInput(contract::ContractError::new(field, message))
    };
    if !rules_given {
        return Err(bad(
            "--rules",
            "oppgi mappen med de foreslåtte regeldataene (samme oppbygning som rules/)".into(),
        ));
    }
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(bad("--from", format!("{f} ligger etter --to {t}")));
    }
    if !matches!(format, "table" | "csv" | "svg") {
        return Err(bad(
            "--format",
            format!("ukjent format «{format}»; ventet table, csv eller svg"),
        ));
    }
    if !matches!(table, "transitions" | "medicines") {
        return Err(bad(
            "--table",
            format!("ukjent tabell «{table}»; ventet transitions eller medicines"),
        ));
    }
    let impact = replay(location, rules, from, to, examples)?;
    let text = match (format, table) {
        ("csv", "medicines") => medicines_csv(&impact),
        ("csv", _) => transitions_csv(&impact),
        ("svg", _) => svg(&impact),
        _ => text(&impact, &rules.version()),
    };
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("skriver {}", path.display()))?
        }
        None => {
            let mut w = std::io::stdout().lock();
            w.write_all(text.as_bytes())
                .and_then(|()| w.flush())
                .context("skriver til standard ut")?;
        }
    }
    Ok(())
}
