//! `legemiddel stats …`: the yearly statistics of unregistered medicines (seed 003) from a file
//! of dispensing records — streamed a line at a time, so a year of a nation's dispensings runs
//! in bounded memory, with progress on a terminal. The tables are the `stats` crate's.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use contract::ContractError;
use stats::top::{Mark, TopRow};

use crate::Failure;

fn bad(field: &str, message: impl Into<String>) -> Failure {
    Failure::BadInput(ContractError::new(field, message))
}

/// An input error as the command line reports it: a wrong value exits 2 naming it, a file that
/// cannot be read exits 1.
fn failure(e: stats_io::InputError) -> Failure {
    match e {
        stats_io::InputError::Bad { field, message } => bad(&field, message),
        io @ stats_io::InputError::Io { .. } => Failure::Other(io.into()),
    }
}

/// Progress on a terminal, every 500 000 records.
fn progress_line() -> impl FnMut(u64, u64, u64) {
    let tty = std::io::stderr().is_terminal();
    move |done, total, count| {
        if tty && total > 0 {
            eprint!(
                "\rleser: {:>3} % ({count} utleveringer)",
                done * 100 / total
            );
            let _ = std::io::stderr().flush();
        }
    }
}

/// Clears the progress line, if one was written.
fn clear_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[K");
    }
}

/// Below this a CSV file is read on one thread; `LEGEMIDDEL_STATS_SPLIT_BYTES` changes it (the
/// tests split small files to check the parts add up).
fn split_from() -> u64 {
    std::env::var("LEGEMIDDEL_STATS_SPLIT_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(stats_io::SPLIT_FROM)
}

/// A marks file: CSV `atc,mark` with `*` (shortage) or `**` (deregistered or temporarily out).
fn marks(path: &Path) -> Result<BTreeMap<String, Mark>, Failure> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("leser {}", path.display()))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line.trim() == "atc,mark" || line.trim().is_empty() {
            continue;
        }
        let (atc, mark) = line
            .split_once(',')
            .ok_or_else(|| bad(&format!("--marks, linje {}", i + 1), "ventet atc,mark"))?;
        let mark = match mark.trim() {
            "*" => Mark::Shortage,
            "**" => Mark::Deregistered,
            other => {
                return Err(bad(
                    &format!("--marks, linje {}, mark", i + 1),
                    format!("ventet * eller **, fikk «{other}»"),
                ));
            }
        };
        out.insert(atc.trim().to_ascii_uppercase(), mark);
    }
    Ok(out)
}

/// `stats top`: the most used unregistered human medicines of `year`.
#[allow(clippy::too_many_arguments)]
pub fn top(
    input: &Path,
    year: i32,
    limit: usize,
    format: &str,
    marks_file: Option<&Path>,
    out: Option<&Path>,
    table_name: &str,
) -> Result<(), Failure> {
    let selection = match table_name {
        "human" => stats::top::Selection::Human,
        "atcvet" => stats::top::Selection::VetAtcVet,
        "vet-human" => stats::top::Selection::VetHumanCode,
        other => {
            return Err(bad(
                "--table",
                format!("ukjent tabell «{other}»; ventet human, atcvet eller vet-human"),
            ));
        }
    };
    let marks = marks_file.map(marks).transpose()?.unwrap_or_default();
    if !matches!(format, "csv" | "xlsx" | "table" | "svg") {
        return Err(bad(
            "--format",
            format!("ukjent format «{format}»; ventet csv, xlsx, table eller svg"),
        ));
    }
    if format == "xlsx" && out.is_none() {
        return Err(bad("--out", "XLSX skrives til en fil: oppgi --out FIL"));
    }
    let started = std::time::Instant::now();
    let (table, count) = stats_io::top(
        input,
        "--input",
        year,
        selection,
        split_from(),
        &mut progress_line(),
    )
    .map_err(failure)?;
    clear_progress();
    let rows = table.rows(limit, &marks);
    let text = match format {
        "csv" => stats::top::csv(&rows, marks_file.is_some()),
        "table" => text_table(&rows, marks_file.is_some()),
        "svg" => server::statistics::bar_chart_file(
            &server::statistics::top_title(selection, year),
            "pakninger",
            &rows
                .iter()
                .map(|r| {
                    (
                        format!("{} {}", r.atc, r.substance),
                        r.packages as f64 / 1000.0,
                    )
                })
                .collect::<Vec<_>>(),
        ),
        _ => String::new(),
    };
    match (format, out) {
        ("xlsx", Some(path)) => {
            let bytes = server::xlsx::table(&server::statistics::top_table(
                &rows,
                &server::statistics::top_title(selection, year),
                marks_file.is_some(),
            ))
            .context("lager XLSX")?;
            std::fs::write(path, bytes).with_context(|| format!("skriver {}", path.display()))?;
        }
        (_, Some(path)) => {
            std::fs::write(path, text).with_context(|| format!("skriver {}", path.display()))?
        }
        (_, None) => {
            let mut w = std::io::stdout().lock();
            w.write_all(text.as_bytes())
                .and_then(|()| w.flush())
                .context("skriver til standard ut")?;
        }
    }
    eprintln!(
        "{count} utleveringer lest, {} linjer ({:.1} s)",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn text_table(rows: &[TopRow], with_marks: bool) -> String {
    let mut out = format!(
        "{:<8} {:<30} {:>12} {:>12} {:>14}{}\n",
        "ATC",
        "Virkestoff",
        "Utleveringer",
        "Pakninger",
        "DDD",
        if with_marks { "  Merke" } else { "" }
    );
    for r in rows {
        out.push_str(&format!(
            "{:<8} {:<30} {:>12} {:>12} {:>14}{}\n",
            r.atc,
            r.substance.chars().take(30).collect::<String>(),
            r.dispensings,
            stats::top::packages_text(r.packages),
            r.ddd.map_or("-".into(), |d| format!("{d:.1}")),
            if with_marks {
                format!("  {}", r.mark.map_or("", Mark::symbol))
            } else {
                String::new()
            }
        ));
    }
    out
}

/// `stats patients`: distinct patients per product (a product list: CSV `varenr,product`) per
/// year from `from` to `to`, with `<5` and secondary suppression.
pub fn patients(
    input: &Path,
    products: &Path,
    from: i32,
    to: i32,
    format: &str,
    out: Option<&Path>,
) -> Result<(), Failure> {
    if !matches!(format, "csv" | "svg") {
        return Err(bad(
            "--format",
            format!("ukjent format «{format}»; ventet csv eller svg"),
        ));
    }
    if from > to || to - from > 50 {
        return Err(bad(
            "--from-year",
            "ventet et første år som ikke er etter det siste, og høyst 50 år",
        ));
    }
    let text = std::fs::read_to_string(products)
        .with_context(|| format!("leser {}", products.display()))?;
    let list = stats::patients::product_list(&text).map_err(|(line, message)| {
        let (column, message) = match message.split_once(": ") {
            Some(("varenr", m)) => (", varenr", m.to_string()),
            _ => ("", message),
        };
        bad(&format!("--products, linje {line}{column}"), message)
    })?;
    let mut table = stats::patients::PatientsTable::new(list);
    let count = stats_io::patients(
        input,
        "--input",
        &mut table,
        split_from(),
        &mut progress_line(),
    )
    .map_err(failure)?;
    clear_progress();
    let years: Vec<i32> = (from..=to).collect();
    let (names, published) = table.publish(&years);
    let text = if format == "svg" {
        server::statistics::patients_chart(&names, &years, &published)
    } else {
        stats::patients::csv(&names, &years, &published)
    };
    match out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("skriver {}", path.display()))?
        }
        None => {
            let mut w = std::io::stdout().lock();
            w.write_all(text.as_bytes())
                .and_then(|()| w.flush())
                .context("skriver til standard ut")?;
        }
    }
    eprintln!(
        "{count} utleveringer lest; tall under 5 vises som <5, og x skjuler tall som ellers kunne regnes ut av summene"
    );
    Ok(())
}

/// `stats varenr`: distinct varenumre without MT per year and species.
pub fn varenr(input: &Path, from: i32, to: i32) -> Result<(), Failure> {
    if from > to || to - from > 50 {
        return Err(bad(
            "--from-year",
            "ventet et første år som ikke er etter det siste, og høyst 50 år",
        ));
    }
    let (parts, _) = stats_io::fold(
        input,
        "--input",
        stats_io::Identity::Needed,
        split_from(),
        stats::top::VarenrCount::default,
        |t, r| t.add_ref(r),
        &mut progress_line(),
    )
    .map_err(failure)?;
    clear_progress();
    let mut count = stats::top::VarenrCount::default();
    for p in parts {
        count.merge(p);
    }
    let mut w = std::io::stdout().lock();
    w.write_all(count.csv(from, to).as_bytes())
        .and_then(|()| w.flush())
        .context("skriver til standard ut")?;
    Ok(())
}

/// `stats exemptions`: table 1 from the exemptions stored (CSV: year,applications,notifications,total).
pub fn exemptions(location: &store::Location) -> Result<(), Failure> {
    let (rt, store) = crate::stock_cli::open(location)?;
    let rows = rt
        .block_on(server::exemption_counts(&store))
        .context("leser sakene")?;
    let mut w = std::io::stdout().lock();
    w.write_all(server::exemption_counts_csv(&rows).as_bytes())
        .and_then(|()| w.flush())
        .context("skriver til standard ut")?;
    Ok(())
}

/// `stats generate`: a records file of `rows` dispensings with known shape, for tests and the
/// DuckDB comparison — years 2023–2025 (the year boundary), varenumre with leading zeros, group
/// and full ATC codes, fractions of packages, veterinary rows under human and ATCvet codes, some
/// registered rows; deterministic.
pub fn generate(out: &Path, rows: u64) -> anyhow::Result<()> {
    const ATC: [(&str, &str, &str); 12] = [
        ("N05CH01", "melatonin", "30"),
        ("A12", "mineraler", ""),
        ("B03AA07", "jern", "10"),
        ("N02BG10", "cannabis", ""),
        ("R05DA04", "kodein", "15"),
        ("A11CC05", "kolekalsiferol", "60"),
        ("N06BA04", "metylfenidat", "20"),
        ("J01XX08", "linezolid", "10"),
        ("QP52AA01", "praziquantel", ""),
        ("QJ01CA04", "amoksicillin", "12"),
        ("C01BD01", "amiodaron", "28"),
        ("H03AA01", "levotyroksin", "100"),
    ];
    let f = std::fs::File::create(out).with_context(|| format!("skriver {}", out.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "{}", stats::read::HEADER)?;
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let start = domain::Date::parse("2023-01-01").map_err(anyhow::Error::from)?;
    let mut dates: Vec<String> = (0..1095)
        .filter_map(|d| start.plus_days(d))
        .map(|d| d.to_string())
        .collect();
    dates.shrink_to_fit();
    let tty = std::io::stderr().is_terminal();
    for i in 0..rows {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (atc, substance, ddd) = ATC[(seed % 12) as usize];
        let date = &dates[((seed >> 8) % 1095) as usize];
        let patient = (seed >> 20) % 200_000;
        let varenr = (seed >> 12) % 2000 * 7;
        let packages = match (seed >> 40) % 4 {
            0 => "0.5",
            1 => "1",
            2 => "2",
            _ => "1.25",
        };
        let unregistered = !(seed >> 44).is_multiple_of(10);
        let species = if atc.starts_with('Q') || (seed >> 48).is_multiple_of(50) {
            "vet"
        } else {
            "human"
        };
        writeln!(
            w,
            "{date},p{patient},{varenr:06},{atc},{substance},{packages},{ddd},{unregistered},{species}"
        )?;
        if tty && i.is_multiple_of(1_000_000) {
            eprint!("\rgenererer: {i} av {rows}");
        }
    }
    w.flush()?;
    if tty {
        eprintln!();
    }
    println!("skrev {rows} utleveringer til {}", out.display());
    Ok(())
}
