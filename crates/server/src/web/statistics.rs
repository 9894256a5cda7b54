//! The analyst's page (`/statistikk`, seed 003): table 1 from the exemptions stored, and from a
//! records file in the analyst's folder the year's tables 2/6/7, the distinct varenumre and
//! table 3 with small counts suppressed — as tables, charts drawn on the server (SVG, no
//! script) and CSV/XLSX downloads. The numbers are [`crate::statistics`]'s, as the command
//! line's are.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cases::exemption::YearCount;
use cases::overview::{Cell, Table};

use super::{Frame, frame, message, render, require};
use crate::extract::Query;
use crate::statistics::{self as figures, PRODUCTS_FILE};
use crate::{AppState, today};

/// Who reads the statistics.
pub const ANALYSTS: &[domain::Role] = crate::exemptions::STATISTICS_READERS;

struct YearView {
    title: String,
    records: u64,
    varenr_human: usize,
    varenr_vet: usize,
    top: Vec<Vec<String>>,
    top_svg: String,
    patients: Option<(Vec<String>, Vec<Vec<String>>)>,
    patients_svg: String,
    download: String,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct Page {
    frame: Frame,
    table1: Vec<Vec<String>>,
    table1_svg: String,
    files: Vec<(String, bool)>,
    no_files: String,
    year: String,
    tables: Vec<(String, String, bool)>,
    limit: String,
    result: Option<YearView>,
    products_file: &'static str,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct PageQuery {
    fil: Option<String>,
    ar: Option<String>,
    tabell: Option<String>,
    antall: Option<String>,
    hva: Option<String>,
    format: Option<String>,
}

fn table1_table(rows: &[YearCount]) -> Table {
    Table {
        title: "Søknader og meldinger om godkjenningsfritak per år (tabell 1)".into(),
        columns: ["year", "applications", "notifications", "total"]
            .map(String::from)
            .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.year.to_string()),
                    Cell::Count(r.applications),
                    Cell::Count(r.notifications),
                    Cell::Count(r.total()),
                ]
            })
            .collect(),
    }
}

fn text_rows(t: &Table) -> Vec<Vec<String>> {
    t.rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Count(n) => n.to_string(),
                    Cell::Money(o) | Cell::Credit(o) => o.kroner(),
                })
                .collect()
        })
        .collect()
}

/// What the form asks for, checked.
struct Ask {
    path: std::path::PathBuf,
    file: String,
    year: i32,
    selection: stats::top::Selection,
    table: String,
    limit: usize,
}

fn ask(state: &AppState, q: &PageQuery) -> Result<Option<Ask>, String> {
    let Some(file) = q.fil.as_deref().filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let dir = state
        .stats_dir
        .as_deref()
        .ok_or("tjenesten har ingen mappe med utleveringsdata (serve --stats-dir)")?;
    let path = figures::resolve(dir, file)
        .ok_or_else(|| format!("fil: «{file}» er ikke en av filene i mappen"))?;
    let year = match q.ar.as_deref().map(str::trim) {
        None | Some("") => today().year() - 1,
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .ok_or_else(|| format!("år: ventet et årstall som 2024, fikk «{y}»"))?,
    };
    let table = q.tabell.clone().unwrap_or_else(|| "human".into());
    let selection = figures::selection(&table)
        .ok_or_else(|| format!("tabell: ukjent «{table}»; ventet human, atcvet eller vet-human"))?;
    let limit = match q.antall.as_deref().map(str::trim) {
        None | Some("") => 20,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| format!("antall linjer: ventet 1–1000, fikk «{n}»"))?,
    };
    Ok(Some(Ask {
        path,
        file: file.to_string(),
        year,
        selection,
        table,
        limit,
    }))
}

/// Reads the file (on a blocking thread: a year of a nation's dispensings takes seconds).
async fn compute(state: &AppState, a: &Ask) -> Result<figures::YearTables, String> {
    let products = match state.stats_dir.as_deref().map(|d| d.join(PRODUCTS_FILE)) {
        Some(p) if p.exists() => Some(
            std::fs::read_to_string(&p)
                .map_err(|e| format!("{PRODUCTS_FILE}: {e}"))
                .and_then(|t| {
                    stats::patients::product_list(&t)
                        .map_err(|(line, m)| format!("{PRODUCTS_FILE}, linje {line}: {m}"))
                })?,
        ),
        _ => None,
    };
    let (path, year, selection, limit) = (a.path.clone(), a.year, a.selection, a.limit);
    tokio::task::spawn_blocking(move || {
        figures::year_tables(&path, year, selection, limit, products).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("lesingen stoppet: {e}"))?
}

/// `GET /statistikk`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let s = match require(&state, &headers, ANALYSTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut error = None;
    let counts = match crate::exemptions::counts(&state.store).await {
        Ok(c) => c,
        Err(e) => {
            error = Some(format!("sakene kunne ikke leses: {e}"));
            Vec::new()
        }
    };
    let table1 = text_rows(&table1_table(&counts));
    let mut chart = Vec::new();
    for r in &counts {
        chart.push((format!("{} søknader", r.year), r.applications as f64));
        chart.push((format!("{} meldinger", r.year), r.notifications as f64));
    }
    let table1_svg =
        figures::bar_chart("t1-tittel", "Søknader og meldinger per år", "saker", &chart);
    let files = state
        .stats_dir
        .as_deref()
        .map(|d| figures::files(d).unwrap_or_default())
        .unwrap_or_default();
    let asked = match ask(&state, &q) {
        Ok(a) => a,
        Err(e) => {
            error = Some(e);
            None
        }
    };
    let mut result = None;
    if let Some(a) = &asked {
        match compute(&state, a).await {
            Ok(t) => {
                let title = figures::top_title(a.selection, a.year);
                let top = figures::top_table(&t.top, &title, false);
                let top_svg = figures::bar_chart(
                    "topp-tittel",
                    &format!("Pakninger per virkestoff {}", a.year),
                    "pakninger",
                    &t.top
                        .iter()
                        .take(20)
                        .map(|r| {
                            (
                                format!("{} {}", r.atc, r.substance),
                                r.packages as f64 / 1000.0,
                            )
                        })
                        .collect::<Vec<_>>(),
                );
                let (patients, patients_svg) = match &t.patients {
                    Some((names, years, published)) => {
                        let table = figures::patients_table(names, years, published);
                        // Figures 1–2: patients per product in the year, where shown.
                        let last = years.len() - 1;
                        let shown: Vec<(String, f64)> = names
                            .iter()
                            .zip(&published.cells)
                            .filter_map(|(n, cells)| match cells[last] {
                                stats::suppress::Shown::Count(c) => Some((n.clone(), c as f64)),
                                _ => None,
                            })
                            .collect();
                        (
                            Some((table.columns.clone(), text_rows(&table))),
                            figures::bar_chart(
                                "pas-tittel",
                                &format!(
                                    "Pasienter per produkt {} (skjulte tall er utelatt)",
                                    a.year
                                ),
                                "pasienter",
                                &shown,
                            ),
                        )
                    }
                    None => (None, String::new()),
                };
                result = Some(YearView {
                    title,
                    records: t.records,
                    varenr_human: t.varenr.0,
                    varenr_vet: t.varenr.1,
                    top: text_rows(&top),
                    top_svg,
                    patients,
                    patients_svg,
                    download: format!(
                        "/statistikk/last-ned?fil={}&ar={}&tabell={}&antall={}",
                        urlencoding(&a.file),
                        a.year,
                        a.table,
                        a.limit
                    ),
                });
            }
            Err(e) => error = Some(e),
        }
    }
    let year = asked
        .as_ref()
        .map_or(today().year() - 1, |a| a.year)
        .to_string();
    let chosen_table = asked
        .as_ref()
        .map_or("human".to_string(), |a| a.table.clone());
    render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &Page {
            frame: frame("Statistikk", Some(&s), "/statistikk", None),
            table1,
            table1_svg,
            files: files
                .iter()
                .map(|f| (f.clone(), asked.as_ref().is_some_and(|a| &a.file == f)))
                .collect(),
            no_files: if state.stats_dir.is_some() {
                "Mappen med utleveringsdata har ingen CSV- eller Parquet-filer.".into()
            } else {
                "Tjenesten er startet uten mappe med utleveringsdata (legemiddel serve --stats-dir MAPPE).".into()
            },
            year,
            tables: [
                ("human", "Tabell 2: til mennesker"),
                ("atcvet", "Tabell 6: veterinærpreparater (ATCvet)"),
                ("vet-human", "Tabell 7: humanpreparater til dyr"),
            ]
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string(), *c == chosen_table))
            .collect(),
            limit: asked.as_ref().map_or(20, |a| a.limit).to_string(),
            result,
            products_file: PRODUCTS_FILE,
            error,
        },
    )
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /statistikk/last-ned?hva=tabell1|topp|pasienter&format=csv|xlsx[&fil&ar&tabell&antall]`.
pub async fn download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let s = match require(&state, &headers, ANALYSTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let format = q.format.clone().unwrap_or_else(|| "csv".into());
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&s),
            "Ukjent format",
            "Velg CSV eller XLSX.",
        );
    }
    let table = match q.hva.as_deref() {
        Some("tabell1") => match crate::exemptions::counts(&state.store).await {
            Ok(c) => table1_table(&c),
            Err(e) => {
                return message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some(&s),
                    "Sakene kan ikke leses",
                    &e.to_string(),
                );
            }
        },
        Some(what @ ("topp" | "pasienter")) => {
            let a = match ask(&state, &q) {
                Ok(Some(a)) => a,
                Ok(None) => {
                    return message(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(&s),
                        "Velg en fil",
                        "fil: velg en fil med utleveringer.",
                    );
                }
                Err(e) => {
                    return message(StatusCode::UNPROCESSABLE_ENTITY, Some(&s), "Rett opp", &e);
                }
            };
            match compute(&state, &a).await {
                Ok(t) if what == "topp" => {
                    figures::top_table(&t.top, &figures::top_title(a.selection, a.year), false)
                }
                Ok(t) => match &t.patients {
                    Some((names, years, p)) => figures::patients_table(names, years, p),
                    None => {
                        return message(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            Some(&s),
                            "Ingen produktliste",
                            &format!("Legg {PRODUCTS_FILE} i mappen med utleveringsdata."),
                        );
                    }
                },
                Err(e) => {
                    return message(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(&s),
                        "Filen kan ikke leses",
                        &e,
                    );
                }
            }
        }
        _ => {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&s),
                "Ukjent tabell",
                "hva: ventet tabell1, topp eller pasienter.",
            );
        }
    };
    let name = match q.hva.as_deref() {
        Some("tabell1") => "tabell1",
        Some("pasienter") => "tabell3",
        _ => "mest-brukte",
    };
    crate::cases_api::export(&table, name, &format).unwrap_or_else(|_| {
        message(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(&s),
            "Filen kunne ikke lages",
            "Prøv igjen.",
        )
    })
}
