//! The stockpile manager's page (`/beredskap`, E1–E4): coverage per substance against the
//! requirement and the expiry profile per wholesaler as charts drawn on the server (SVG, no
//! script), the lines under the requirement, lots near expiry, downloads, and a supply-stop
//! simulation — all from [`crate::stockpiles`], as the API and the CLI.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::Date;

use super::{Frame, frame, message, render, require};
use crate::extract::Query;
use crate::stockpiles::{self, Report};
use crate::stockpiles_api::STOCK_READERS;
use crate::{AppState, today};

#[derive(Template)]
#[template(path = "stockpiles.html")]
struct StockpilePage {
    frame: Frame,
    date: String,
    coverage_svg: String,
    expiry_svg: String,
    alerts: Vec<Vec<String>>,
    expiring: Vec<Vec<String>>,
    window_days: u32,
    atc: String,
    days: String,
    simulation: Option<Vec<Vec<String>>>,
    rationing: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    dato: Option<String>,
    atc: Option<String>,
    dager: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Days of national coverage per substance as horizontal bars, with the requirement as a mark:
/// a bar under its mark is drawn in the warning colour (and says so in its title, for screen
/// readers and for print in black and white).
pub fn coverage_chart(report: &Report) -> String {
    let lines: Vec<_> = report
        .lines
        .iter()
        .filter(|l| l.wholesaler.is_none())
        .collect();
    let max = lines
        .iter()
        .flat_map(|l| [l.coverage.days.unwrap_or(0.0), l.coverage.target_days])
        .fold(1.0_f64, f64::max)
        .min(730.0);
    let (left, width, row) = (150.0, 560.0, 22.0);
    let height = 40.0 + row * lines.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" role="img" aria-labelledby="dekning-tittel" class="diagram"><title id="dekning-tittel">Dager med dekning per virkestoff, nasjonalt, mot kravet</title>"#,
        w = left + width + 60.0
    );
    let x = |days: f64| left + width * (days.min(max) / max);
    for (i, l) in lines.iter().enumerate() {
        let y = 20.0 + row * i as f64;
        let days = l.coverage.days.unwrap_or(0.0);
        let below = l.alert();
        let _ = write!(
            svg,
            r#"<text x="{tx}" y="{ty}" text-anchor="end" class="etikett">{atc}</text><rect x="{left}" y="{y}" width="{bw:.1}" height="14" class="{class}"><title>{atc}: {days:.0} dager, krav {target:.0}{status}</title></rect><line x1="{mx:.1}" x2="{mx:.1}" y1="{y1}" y2="{y2}" class="krav"/><text x="{vx:.1}" y="{ty}" class="verdi">{days:.0}</text>"#,
            tx = left - 6.0,
            ty = y + 11.0,
            atc = escape(&l.atc),
            bw = (x(days) - left).max(0.0),
            class = if below { "stolpe under" } else { "stolpe" },
            target = l.coverage.target_days,
            status = if below { " – under kravet" } else { "" },
            mx = x(l.coverage.target_days),
            y1 = y - 2.0,
            y2 = y + 16.0,
            vx = x(days) + 4.0,
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{left}" y="{h}" class="akse">0</text><text x="{r}" y="{h}" text-anchor="end" class="akse">{max:.0} dager</text></svg>"#,
        h = height - 4.0,
        r = left + width
    );
    svg
}

/// Packages by month of expiry for each wholesaler, the next 18 months: small multiples, one
/// row per wholesaler on a common scale.
pub fn expiry_chart(lots: &[store::stock_ledger::LotBalance], from: Date) -> String {
    let months: Vec<(i32, u32)> = (0..18)
        .filter_map(|m| from.plus_months(m).map(|d| (d.year(), d.month())))
        .collect();
    let mut by: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for l in lots.iter().filter(|l| l.balance > 0) {
        let Ok(expiry) = Date::parse(&l.expiry) else {
            continue;
        };
        if let Some(i) = months
            .iter()
            .position(|m| *m == (expiry.year(), expiry.month()))
        {
            by.entry(l.key.wholesaler.clone())
                .or_insert_with(|| vec![0; months.len()])[i] += l.balance;
        }
    }
    let max = by.values().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let (left, col, band) = (90.0, 30.0, 70.0);
    let height = 30.0 + band * by.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" role="img" aria-labelledby="utlop-tittel" class="diagram"><title id="utlop-tittel">Pakninger etter utløpsmåned per grossist, de neste 18 månedene</title>"#,
        w = left + col * months.len() as f64 + 10.0
    );
    for (r, (wholesaler, counts)) in by.iter().enumerate() {
        let base = 20.0 + band * (r as f64 + 1.0) - 10.0;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="etikett">{}</text>"#,
            left - 6.0,
            base - 4.0,
            escape(wholesaler)
        );
        for (i, n) in counts.iter().enumerate() {
            let h = (band - 16.0) * (*n as f64 / max);
            let (year, month) = months[i];
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" class="stolpe"><title>{wholesaler}: {n} pakninger går ut {month:02}.{year}</title></rect>"#,
                x = left + col * i as f64 + 2.0,
                y = base - h,
                w = col - 4.0,
                wholesaler = escape(wholesaler),
            );
        }
    }
    for (i, (year, month)) in months.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="akse">{month:02}.{}</text>"#,
            left + col * i as f64,
            height - 4.0,
            year % 100
        );
    }
    svg.push_str("</svg>");
    svg
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let s = match require(&state, &headers, STOCK_READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut error = None;
    let date = match q.dato.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => today(),
        Some(d) => match cases::fields::parse_norwegian_date(d) {
            Ok(d) => d,
            Err(e) => {
                error = Some(format!("Dato: {e}"));
                today()
            }
        },
    };
    let report = match stockpiles::report(&state.store, &state.rules, date).await {
        Ok(r) => r,
        Err(e) => {
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&s),
                "Lageret kan ikke leses",
                &e.to_string(),
            );
        }
    };
    let (atc, days) = (
        q.atc.clone().unwrap_or_default(),
        q.dager.clone().unwrap_or_default(),
    );
    let mut simulation = None;
    let mut rationing = None;
    if !atc.trim().is_empty() {
        match days.trim().parse::<u32>() {
            Ok(n) if (1..=3650).contains(&n) => {
                match stockpiles::simulate(&state.store, &state.rules, &atc, n, date).await {
                    Ok(sim) => {
                        let d =
                            |x: Option<f64>| x.map_or("ingen salg".into(), |d| format!("{d:.0}"));
                        let mut rows: Vec<Vec<String>> = sim
                            .holders
                            .iter()
                            .map(|h| {
                                vec![
                                    h.id.clone(),
                                    d(h.days),
                                    h.empty_on_day
                                        .map_or("holder".into(), |x| format!("dag {x}")),
                                    h.shortfall.to_string(),
                                ]
                            })
                            .collect();
                        rows.push(vec![
                            "Nasjonalt".into(),
                            d(sim.national_days),
                            String::new(),
                            sim.national_shortfall.to_string(),
                        ]);
                        simulation = Some(rows);
                        let shares: Vec<String> = sim
                            .holders
                            .iter()
                            .zip(&sim.rationed_shares)
                            .map(|(h, n)| format!("{} {n}", h.id))
                            .collect();
                        rationing = Some(match sim.rationing_from_day {
                            Some(day) if !shares.is_empty() => format!(
                                "Rasjonering (E4) bør vurderes fra dag {day} av stansen. Holdes {} pakninger tilbake til prioriterte grupper, fordeles resten etter etterspørsel: {} pakninger.",
                                sim.reserve,
                                shares.join(", ")
                            ),
                            Some(day) => {
                                format!("Rasjonering (E4) bør vurderes fra dag {day} av stansen.")
                            }
                            None => {
                                "Lageret holder gjennom stansen; rasjonering trengs ikke.".into()
                            }
                        });
                    }
                    Err(e) => error = Some(e.to_string()),
                }
            }
            _ => error = Some("Dager: ventet et helt antall dager, 1–3650.".into()),
        }
    }
    let alerts = report
        .lines
        .iter()
        .filter(|l| l.alert())
        .map(|l| {
            vec![
                l.atc.clone(),
                l.wholesaler.clone().unwrap_or_else(|| "nasjonalt".into()),
                l.group.clone().unwrap_or_default(),
                l.coverage.stock.to_string(),
                l.coverage.days.map_or("-".into(), |d| format!("{d:.0}")),
                format!("{:.0}", l.coverage.target_days),
                l.coverage.missing().to_string(),
            ]
        })
        .collect();
    let expiring = report
        .expiring
        .iter()
        .take(50)
        .map(|(k, atc, expiry, n)| {
            vec![
                k.wholesaler.clone(),
                k.varenr.clone(),
                k.lot.clone(),
                atc.clone(),
                super::lists::norwegian_date(&expiry.to_string()),
                n.to_string(),
            ]
        })
        .collect();
    render(
        StatusCode::OK,
        &StockpilePage {
            frame: frame("Beredskapslager", Some(&s), "/beredskap", None),
            date: super::lists::norwegian_date(&date.to_string()),
            coverage_svg: coverage_chart(&report),
            expiry_svg: expiry_chart(&report.lots, date),
            alerts,
            expiring,
            window_days: report.window_days,
            atc,
            days,
            simulation,
            rationing,
            error,
        },
    )
}

#[derive(serde::Deserialize, Default)]
pub struct DownloadQuery {
    format: Option<String>,
    dato: Option<String>,
}

/// `GET /beredskap/dekning?format=csv|xlsx`: the coverage table as a file.
pub async fn download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let s = match require(&state, &headers, STOCK_READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let date = q
        .dato
        .as_deref()
        .and_then(|d| cases::fields::parse_norwegian_date(d).ok())
        .unwrap_or_else(today);
    let format = q.format.unwrap_or_else(|| "csv".into());
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return message(
            StatusCode::BAD_REQUEST,
            Some(&s),
            "Ukjent format",
            "Velg CSV eller XLSX.",
        );
    }
    match stockpiles::report(&state.store, &state.rules, date).await {
        Ok(r) => {
            crate::cases_api::export(&stockpiles::coverage_table(&r), "beredskapslager", &format)
                .unwrap_or_else(|_| {
                    message(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Some(&s),
                        "Filen kunne ikke lages",
                        "Prøv igjen.",
                    )
                })
        }
        Err(e) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&s),
            "Lageret kan ikke leses",
            &e.to_string(),
        ),
    }
}
