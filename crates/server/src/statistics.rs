//! The yearly statistics of unregistered medicines (seed 003) at the service's edge: the records
//! files in the analyst's folder (`serve --stats-dir`), read by [`stats_io`] into the tables of
//! [`stats`] in one pass, and the tables as downloads. Table 1 comes from the exemptions stored
//! ([`crate::exemptions`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cases::overview::{Cell, Table};
use stats::Species;
use stats::patients::PatientsTable;
use stats::suppress::Published;
use stats::top::{Mark, Selection, TopRow, TopTable, VarenrCount};

/// The product list of table 3, when the folder has one.
pub const PRODUCTS_FILE: &str = "produkter.csv";

/// The records files in `dir` (CSV or Parquet), by name.
pub fn files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        let path = e.path();
        let records = path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("csv") || x.eq_ignore_ascii_case("parquet"));
        if records && name != PRODUCTS_FILE && e.file_type()?.is_file() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// The file called `name` in `dir`, if it is one of [`files`] — never a path outside it.
pub fn resolve(dir: &Path, name: &str) -> Option<PathBuf> {
    files(dir)
        .ok()?
        .into_iter()
        .find(|f| f == name)
        .map(|f| dir.join(f))
}

/// Which veterinary or human table.
pub fn selection(code: &str) -> Option<Selection> {
    match code {
        "human" => Some(Selection::Human),
        "atcvet" => Some(Selection::VetAtcVet),
        "vet-human" => Some(Selection::VetHumanCode),
        _ => None,
    }
}

/// The table's title, in bokmål.
pub fn top_title(selection: Selection, year: i32) -> String {
    match selection {
        Selection::Human => {
            format!("Mest brukte uregistrerte legemidler til mennesker {year} (tabell 2)")
        }
        Selection::VetAtcVet => {
            format!("Uregistrerte veterinærpreparater (ATCvet) {year} (tabell 6)")
        }
        Selection::VetHumanCode => {
            format!("Uregistrerte humanpreparater utlevert til dyr {year} (tabell 7)")
        }
    }
}

/// The top table as a downloadable table (CSV, XLSX).
pub fn top_table(rows: &[TopRow], title: &str, with_marks: bool) -> Table {
    let mut columns: Vec<String> = ["atc", "substance", "dispensings", "packages", "ddd"]
        .map(String::from)
        .to_vec();
    if with_marks {
        columns.push("mark".into());
    }
    Table {
        title: title.into(),
        columns,
        rows: rows
            .iter()
            .map(|r| {
                let mut cells = vec![
                    Cell::Text(r.atc.clone()),
                    Cell::Text(r.substance.clone()),
                    Cell::Count(r.dispensings),
                    Cell::Text(stats::top::packages_text(r.packages)),
                    Cell::Text(r.ddd.map_or("-".into(), |d| format!("{d:.1}"))),
                ];
                if with_marks {
                    cells.push(Cell::Text(r.mark.map_or("", Mark::symbol).into()));
                }
                cells
            })
            .collect(),
    }
}

/// Table 3 as a downloadable table: the suppressed cells as published (`<5`, `x`).
pub fn patients_table(names: &[String], years: &[i32], p: &Published) -> Table {
    let mut columns = vec!["product".to_string()];
    columns.extend(years.iter().map(i32::to_string));
    columns.push("sum".into());
    let mut rows: Vec<Vec<Cell>> = names
        .iter()
        .zip(p.cells.iter().zip(&p.row_totals))
        .map(|(name, (cells, total))| {
            let mut row = vec![Cell::Text(name.clone())];
            row.extend(cells.iter().map(|c| Cell::Text(c.text())));
            row.push(Cell::Text(total.text()));
            row
        })
        .collect();
    let mut sum = vec![Cell::Text("sum".into())];
    sum.extend(p.column_totals.iter().map(|c| Cell::Text(c.text())));
    sum.push(Cell::Text(p.total.text()));
    rows.push(sum);
    Table {
        title: "Antall pasienter per produkt per år (tabell 3)".into(),
        columns,
        rows,
    }
}

/// What one pass over a records file gives for a year.
pub struct YearTables {
    /// Table 2 (or 6, 7).
    pub top: Vec<TopRow>,
    /// Distinct varenumre without MT: human, veterinary.
    pub varenr: (usize, usize),
    /// Table 3 over the five years up to the year, when a product list is given.
    pub patients: Option<(Vec<String>, Vec<i32>, Published)>,
    /// Records read.
    pub records: u64,
}

/// Reads `path` once for the year's tables; `products` is table 3's product list.
pub fn year_tables(
    path: &Path,
    year: i32,
    selection: Selection,
    limit: usize,
    products: Option<BTreeMap<String, String>>,
) -> Result<YearTables, stats_io::InputError> {
    let empty_patients = products.map(PatientsTable::new);
    let (parts, records) = stats_io::fold(
        path,
        "fil",
        stats_io::Identity::Needed,
        stats_io::SPLIT_FROM,
        || {
            (
                TopTable::of(year, selection),
                VarenrCount::default(),
                empty_patients.clone(),
            )
        },
        |(top, varenr, patients), r| {
            top.add_ref(r);
            varenr.add_ref(r);
            if let Some(p) = patients {
                p.add_ref(r);
            }
        },
        &mut |_, _, _| {},
    )?;
    let mut top = TopTable::of(year, selection);
    let mut varenr = VarenrCount::default();
    let mut patients = empty_patients.clone();
    for (t, v, p) in parts {
        top.merge(t);
        varenr.merge(v);
        if let (Some(all), Some(p)) = (patients.as_mut(), p) {
            all.merge(p);
        }
    }
    let years: Vec<i32> = (year - 4..=year).collect();
    Ok(YearTables {
        top: top.rows(limit, &BTreeMap::new()),
        varenr: (
            varenr.count(year, Species::Human),
            varenr.count(year, Species::Vet),
        ),
        patients: patients.map(|p| {
            let (names, published) = p.publish(&years);
            (names, years, published)
        }),
        records,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars, one per `(label, value)`, on a common scale from 0, as SVG drawn on the
/// server; `id` names the title (for screen readers). The page styles it; a file of its own
/// (`standalone`) carries its own style.
pub fn bar_chart(id: &str, title: &str, unit: &str, rows: &[(String, f64)]) -> String {
    chart(id, title, unit, rows, false)
}

/// [`bar_chart`] as a file of its own.
pub fn bar_chart_file(title: &str, unit: &str, rows: &[(String, f64)]) -> String {
    chart("tittel", title, unit, rows, true)
}

fn chart(id: &str, title: &str, unit: &str, rows: &[(String, f64)], standalone: bool) -> String {
    use std::fmt::Write as _;
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1.0);
    let (left, width, row) = (220.0, 480.0, 22.0);
    let height = 36.0 + row * rows.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" role="img" aria-labelledby="{id}" class="diagram"><title id="{id}">{title}</title>"#,
        w = left + width + 90.0,
        title = escape(title),
    );
    if standalone {
        svg.push_str("<style>text{font:12px sans-serif}.stolpe{fill:#1f5fa0}</style>");
    }
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 16.0 + row * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{tx}" y="{ty}" text-anchor="end" class="etikett">{label}</text><rect x="{left}" y="{y}" width="{bw:.1}" height="14" class="stolpe"><title>{label}: {value} {unit}</title></rect><text x="{vx:.1}" y="{ty}" class="verdi">{value}</text>"#,
            tx = left - 6.0,
            ty = y + 11.0,
            label = escape(label),
            bw = width * value / max,
            vx = left + width * value / max + 4.0,
            unit = escape(unit),
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{left}" y="{h}" class="akse">0</text><text x="{r}" y="{h}" text-anchor="end" class="akse">{max} {unit}</text></svg>"#,
        h = height - 4.0,
        r = left + width,
        unit = escape(unit),
    );
    svg
}

/// Figures 1–2 of the report: patients per product per year, the cells shown (hidden ones left
/// out and said so in the title).
pub fn patients_chart(names: &[String], years: &[i32], p: &Published) -> String {
    let mut rows = Vec::new();
    for (name, cells) in names.iter().zip(&p.cells) {
        for (year, cell) in years.iter().zip(cells) {
            if let stats::suppress::Shown::Count(n) = cell {
                rows.push((format!("{name} {year}"), *n as f64));
            }
        }
    }
    bar_chart_file(
        "Pasienter per produkt per år (skjulte tall er utelatt)",
        "pasienter",
        &rows,
    )
}
