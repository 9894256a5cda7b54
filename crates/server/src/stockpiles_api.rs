//! `/api/v1/stockpiles/…` (role `stockpile_manager`; analysts and administrators read): the
//! emergency stockpiles over HTTP — events in, lots and coverage out, a delivery picked first
//! expiry first out, a supply stop simulated, the ledger verified. Every change is stored with
//! its audit record in one transaction; every read of the ledger is audited.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Date, Role};
use serde_json::{Value, json};
use store::stock_ledger::{Appended, LotKey, StockEventIn};
use store::{NewRecord, StoreError};

use crate::bodies::{Allocation, MAX_EVENTS, MAX_STOP_DAYS, StockEvent, StockEvents, SupplyStop};
use crate::extract::Query;
use crate::stockpiles::{self, Delivery, ReportError};
use crate::{ApiError, AppState, authorize, json_headers, today};

/// Who keeps the ledger.
pub const STOCK_KEEPERS: &[Role] = &[Role::StockpileManager];
/// Who may read it.
pub const STOCK_READERS: &[Role] = &[Role::StockpileManager, Role::Analyst, Role::Administrator];

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, message)
}

fn from_report(e: ReportError) -> ApiError {
    match e {
        ReportError::Invalid { field, message } => bad(&field, message),
        // The rule data cover every date from their first period on: a date before it is the
        // caller's (found by schemathesis: this was a 500).
        ReportError::Rules(m) => bad("date", m),
        ReportError::Store(e) => from_store(e),
    }
}

fn from_store(e: StoreError) -> ApiError {
    match e {
        StoreError::StockRefused(m) => bad("events", m),
        other => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database",
            other.to_string(),
        ),
    }
}

/// A date field: `YYYY-MM-DD`, or today when left out.
fn date_or_today(field: &str, value: Option<&str>) -> Result<Date, ApiError> {
    value.map_or(Ok(today()), |d| {
        Date::parse(d).map_err(|e| bad(field, e.to_string()))
    })
}

/// Text that must say something: trimmed, not blank.
fn filled<'a>(field: &str, value: &'a str, what: &str) -> Result<&'a str, ApiError> {
    match value.trim() {
        "" => Err(bad(field, format!("ventet {what}"))),
        v => Ok(v),
    }
}

/// One event of the request body, checked beyond its types, or what is wrong with which field.
fn event_in(i: usize, e: StockEvent, wholesalers: &[String]) -> Result<StockEventIn, ApiError> {
    let at = |f: &str| format!("events[{i}].{f}");
    let wholesaler = filled(&at("wholesaler"), &e.wholesaler, "grossistens id")?;
    if !wholesalers.iter().any(|w| w == wholesaler) {
        return Err(bad(
            &at("wholesaler"),
            format!("ukjent grossist; ventet en av {}", wholesalers.join(", ")),
        ));
    }
    let varenr = e.varenr.trim();
    if varenr.len() != 6 || !varenr.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(&at("varenr"), "ventet seks sifre"));
    }
    let atc = domain::Atc::parse(&e.atc).map_err(|err| bad(&at("atc"), err.to_string()))?;
    let date = |f: &str, d: &str| Date::parse(d).map_err(|err| bad(&at(f), err.to_string()));
    let kind = stock::EventKind::from_code(&e.kind).ok_or_else(|| {
        bad(
            &at("kind"),
            "ventet received, issued, adjusted, counted, expired eller reversed",
        )
    })?;
    // The key is kept exactly as sent (not trimmed): it is what a resend is matched by.
    if let Some(k) = &e.key {
        filled(&at("key"), k, "avsenderens id for hendelsen")?;
    }
    Ok(StockEventIn {
        lot: LotKey {
            wholesaler: wholesaler.into(),
            varenr: varenr.into(),
            lot: filled(&at("lot"), &e.lot, "partinummeret")?.into(),
        },
        atc: atc.to_string(),
        expiry: date("expiry", &e.expiry)?,
        event: stock::NewEvent {
            date: date("date", &e.date)?,
            kind,
            quantity: e.quantity,
            reverses: e.reverses,
        },
        note: e.note.unwrap_or_default(),
        key: e.key,
    })
}

fn event_json(a: &Appended) -> Value {
    match a {
        Appended::New(e) => {
            json!({"id": e.id, "stored": true, "date": e.date.to_string(), "kind": e.kind.code(), "quantity": e.quantity, "delta": e.delta})
        }
        Appended::Again(id) => json!({"id": id, "stored": false, "again": true}),
        Appended::Refused(e) => json!({"stored": false, "refused": e.to_string()}),
        Appended::Mismatch(m) => json!({"stored": false, "refused": m}),
    }
}

fn audit(
    user: &crate::User,
    role: Role,
    action: &str,
    request: String,
    response: &Value,
) -> NewRecord {
    NewRecord {
        at: crate::now_rfc3339(),
        actor: user.subject.clone(),
        role: role.code().into(),
        action: action.into(),
        rule_set: String::new(),
        request,
        response: response.to_string(),
    }
}

/// `POST /api/v1/stockpiles/events`: `{"events": [...]}` — stored all together or not at all,
/// each checked against its lot's history; an event whose `key` was stored before is not stored
/// again (`again`).
pub async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, STOCK_KEEPERS)?;
    let StockEvents { events } = contract::read_object(&body)?;
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(bad("events", "ventet en liste med 1–10 000 hendelser"));
    }
    let e1 = stockpiles::rules_on(&state.rules, today()).map_err(|m| bad("rules", m))?;
    let wholesalers: Vec<String> = e1.wholesalers.iter().map(|w| w.id.clone()).collect();
    let batch = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| event_in(i, e, &wholesalers))
        .collect::<Result<Vec<_>, _>>()?;
    let record = audit(
        &user,
        role,
        "stock:events",
        String::from_utf8_lossy(&body).into_owned(),
        &json!({"events": batch.len()}),
    );
    let stored = state
        .store
        .append_stock_events_all(batch, crate::now_rfc3339(), Some(record))
        .await
        .map_err(from_store)?;
    let all_again = stored.iter().all(|a| matches!(a, Appended::Again(_)));
    let answer = json!({ "events": stored.iter().map(event_json).collect::<Vec<_>>() });
    let status = if all_again {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, json_headers(), answer.to_string()).into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct LotQuery {
    wholesaler: Option<String>,
    atc: Option<String>,
}

/// `GET /api/v1/stockpiles/lots?wholesaler=&atc=`: every lot with its balance.
pub async fn lots(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<LotQuery>,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, STOCK_READERS)?;
    let lots = state
        .store
        .stock_balances(q.wholesaler.as_deref(), q.atc.as_deref())
        .await
        .map_err(from_store)?;
    let receipt = crate::audit_read(
        &state,
        &user,
        role,
        "GET /api/v1/stockpiles/lots",
        json!({"wholesaler": q.wholesaler, "atc": q.atc}),
    )
    .await?;
    let answer = json!({"lots": lots.iter().map(|l| json!({
        "wholesaler": l.key.wholesaler, "varenr": l.key.varenr, "lot": l.key.lot,
        "atc": l.atc, "expiry": l.expiry, "balance": l.balance,
    })).collect::<Vec<_>>()});
    Ok(crate::audited(&receipt, answer.to_string().into_bytes()))
}

#[derive(serde::Deserialize, Default)]
pub struct CoverageQuery {
    date: Option<String>,
    format: Option<String>,
    alerts: Option<bool>,
    /// `ledger` (the wholesalers' issues, the default) or `dispensings` (the pharmacies' own).
    sales: Option<String>,
}

/// `GET /api/v1/stockpiles/coverage?date=&format=json|csv|xlsx&alerts=true`.
pub async fn coverage(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, STOCK_READERS)?;
    let date = match q.date.as_deref() {
        None | Some("") => today(),
        Some(d) => Date::parse(d).map_err(|e| bad("date", e.to_string()))?,
    };
    let pharmacy_sales = match q.sales.as_deref() {
        None | Some("" | "ledger") => None,
        Some("dispensings") => Some(
            stockpiles::sales_from_dispensings(&state.store, date)
                .await
                .map_err(from_report)?,
        ),
        Some(other) => {
            return Err(bad(
                "sales",
                format!("ukjent kilde «{other}»; ventet ledger eller dispensings"),
            ));
        }
    };
    let mut report =
        stockpiles::report_with(&state.store, &state.rules, date, pharmacy_sales.as_ref())
            .await
            .map_err(from_report)?;
    if q.alerts.unwrap_or(false) {
        report.lines.retain(|l| l.alert());
    }
    crate::audit_read(
        &state,
        &user,
        role,
        "GET /api/v1/stockpiles/coverage",
        json!({"date": date.to_string()}),
    )
    .await?;
    let table = stockpiles::coverage_table(&report);
    match q.format.as_deref().unwrap_or("json") {
        "json" => {
            let answer = json!({
                "date": date.to_string(),
                "lines": report.lines.iter().map(|l| json!({
                    "atc": l.atc, "wholesaler": l.wholesaler, "group": l.group,
                    "stock": l.coverage.stock, "yearly_sales": l.coverage.yearly_sales,
                    "days": l.coverage.days, "target_days": l.coverage.target_days,
                    "target_packages": l.coverage.target_packages, "missing": l.coverage.missing(),
                    "below_target": l.alert(),
                })).collect::<Vec<_>>(),
                "expiring": report.expiring.iter().map(|(k, atc, expiry, n)| json!({
                    "wholesaler": k.wholesaler, "varenr": k.varenr, "lot": k.lot, "atc": atc,
                    "expiry": expiry.to_string(), "balance": n,
                })).collect::<Vec<_>>(),
                "expiry_window_days": report.window_days,
            });
            Ok((json_headers(), answer.to_string()).into_response())
        }
        f @ ("csv" | "xlsx") => {
            crate::cases_api::export(&table, "beredskapslager", f).map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "format",
                    "kunne ikke lage filen",
                )
            })
        }
        other => Err(bad(
            "format",
            format!("ukjent format «{other}»; ventet json, csv eller xlsx"),
        )),
    }
}

/// `POST /api/v1/stockpiles/allocate`: `{wholesaler, varenr, quantity, date?, dry_run?}`.
pub async fn allocate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, STOCK_KEEPERS)?;
    let asked: Allocation = contract::read_object(&body)?;
    let delivery = Delivery {
        wholesaler: filled("wholesaler", &asked.wholesaler, "grossistens id")?.to_string(),
        varenr: filled("varenr", &asked.varenr, "varenummeret")?.to_string(),
        quantity: asked.quantity,
        date: date_or_today("date", asked.date.as_deref())?,
        dry_run: asked.dry_run,
    };
    let record = audit(
        &user,
        role,
        "stock:allocate",
        String::from_utf8_lossy(&body).into_owned(),
        &json!({}),
    );
    let (allocation, stored) = stockpiles::allocate(
        &state.store,
        &state.rules,
        &delivery,
        crate::now_rfc3339(),
        Some(record),
    )
    .await
    .map_err(from_report)?;
    let answer = json!({
        "picks": allocation.picks.iter().map(|p| json!({"lot": p.lot, "expiry": p.expiry.to_string(), "quantity": p.quantity})).collect::<Vec<_>>(),
        "shortfall": allocation.shortfall,
        "events": stored.iter().map(event_json).collect::<Vec<_>>(),
    });
    Ok((json_headers(), answer.to_string()).into_response())
}

/// `POST /api/v1/stockpiles/simulate`: `{atc, days, date?}` — a supply stop.
pub async fn simulate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, STOCK_READERS)?;
    let stop: SupplyStop = contract::read_object(&body)?;
    if !(1..=MAX_STOP_DAYS).contains(&stop.days) {
        return Err(bad("days", format!("ventet 1–{MAX_STOP_DAYS} dager")));
    }
    let sim = stockpiles::simulate(
        &state.store,
        &state.rules,
        filled("atc", &stop.atc, "ATC-kode eller -gruppe")?,
        stop.days,
        date_or_today("date", stop.date.as_deref())?,
    )
    .await
    .map_err(from_report)?;
    let answer = json!({
        "wholesalers": sim.holders.iter().map(|h| json!({"wholesaler": h.id, "days": h.days, "empty_on_day": h.empty_on_day, "shortfall": h.shortfall})).collect::<Vec<_>>(),
        "national_days": sim.national_days,
        "national_shortfall": sim.national_shortfall,
        "rationing_from_day": sim.rationing_from_day,
        "reserve": sim.reserve,
        "rationed_shares": sim.holders.iter().zip(&sim.rationed_shares)
            .map(|(h, n)| json!({"wholesaler": h.id, "packages": n})).collect::<Vec<_>>(),
    });
    Ok((json_headers(), answer.to_string()).into_response())
}

/// `GET /api/v1/stockpiles/verify`: every lot recomputed from its events.
pub async fn verify(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, STOCK_READERS)?;
    let (problems, lots, events) = state
        .store
        .verify_stock(|_, _| {})
        .await
        .map_err(from_store)?;
    let answer = json!({
        "ok": problems.is_empty(), "lots": lots, "events": events,
        "problems": problems.iter().map(|p| json!({"wholesaler": p.key.wholesaler, "varenr": p.key.varenr, "lot": p.key.lot, "problems": format!("{:?}", p.problems)})).collect::<Vec<_>>(),
    });
    Ok((json_headers(), answer.to_string()).into_response())
}
