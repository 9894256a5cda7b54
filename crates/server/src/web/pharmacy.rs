//! The pharmacist's page (`/apotek/utlevering`): the dispensing form of pharmacy contract v1,
//! sent through the same [`crate::pharmacy::record_dispensing`] as the API, so the page and a
//! pharmacy system get the same answer, stored once by the dispensing's id.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cases::{FieldError, Fields};
use serde_json::Value;

use super::{Frame, Session, SummaryItem, form_fields, forms, frame, render, require, summary};
use crate::extract::Form;
use crate::{AppState, today};

/// An accepted or refused dispensing, in words.
pub struct DispensingView {
    accepted: bool,
    status: String,
    name: String,
    varenr: String,
    register_as: String,
    price: String,
    patient_pays: String,
    counted: String,
    year: Option<String>,
    exemption: Option<String>,
    /// (payer, amount, basis)
    lines: Vec<(String, String, String)>,
    /// (rule, message)
    refusals: Vec<(String, String)>,
    warnings: Vec<String>,
    claims: Vec<String>,
}

#[derive(Template)]
#[template(path = "dispensing.html")]
struct DispensingPage {
    frame: Frame,
    heading: String,
    intro: String,
    action: String,
    sections: Vec<forms::Section>,
    errors: Vec<SummaryItem>,
    hidden: Vec<(String, String)>,
    buttons: Vec<(String, String)>,
    result: Option<DispensingView>,
}

/// A fresh dispensing id for the form: kept through errors and resends, so the same dispensing
/// is never registered twice.
fn new_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("web-{}", hex::encode(bytes))
}

fn defaults(s: &Session) -> Fields {
    let mut f = Fields::new();
    let day = today().to_string();
    f.insert("dispensing_id".into(), new_id());
    f.insert("date".into(), day.clone());
    f.insert("prescription.issued".into(), day);
    f.insert("patient.id_kind".into(), "fnr".into());
    f.insert("prescription.form".into(), "blue".into());
    f.insert("prescription.prescriber.role".into(), "gp".into());
    f.insert("packages".into(), "1".into());
    if let Some(trust) = &s.actor.trust {
        f.insert("pharmacy.name".into(), trust.clone());
    }
    f
}

fn page(
    state: &AppState,
    s: &Session,
    fields: &Fields,
    errors: &[FieldError],
    result: Option<DispensingView>,
    status: StatusCode,
) -> Response {
    let register = state.rules.trusts.at(today()).map(|r| &r.value);
    let empty = ruleset::TrustRegister::default();
    let mut sections = forms::dispensing(register.unwrap_or(&empty));
    let unplaced = forms::fill(&mut sections, fields, errors);
    let mut all = errors.to_vec();
    all.retain(|e| !unplaced.contains(e));
    all.extend(unplaced);
    render(
        status,
        &DispensingPage {
            frame: frame("Utlevering", Some(s), "/apotek/utlevering", None),
            heading: "Utlevering på apoteket".into(),
            intro: "Registrer det som utleveres. Svaret viser pris, hva pasienten betaler, hvem som får kravet – \
                    eller hvorfor resepten ikke kan ekspederes, med regelen."
                .into(),
            action: "/apotek/utlevering#svar".into(),
            errors: summary(&sections, &all),
            sections,
            hidden: Vec::new(),
            buttons: vec![("dispense".into(), "Registrer utleveringen".into())],
            result,
        },
    )
}

/// `GET /apotek/utlevering`.
pub(super) async fn form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match require(&state, &headers, crate::pharmacy::PHARMACISTS).await {
        Ok(s) => page(&state, &s, &defaults(&s), &[], None, StatusCode::OK),
        Err(r) => r,
    }
}

/// The form's fields as the contract's JSON: dotted names nest; numbers and the yes/no box
/// are sent as such when they read as such, and otherwise as text, so the contract names the
/// field that is wrong.
fn dispensing_json(fields: &Fields) -> Value {
    const NUMBERS: [&str; 4] = [
        "packages",
        "supply_days",
        "prescription.daily_dose.amount",
        "prescription.daily_dose_omeq",
    ];
    let no_dose = fields
        .get("prescription.daily_dose.amount")
        .is_none_or(|v| v.trim().is_empty());
    let no_number = fields.get("patient.id_kind").map(String::as_str) == Some("none");
    let mut root = Value::Object(serde_json::Map::new());
    for (path, value) in fields {
        let value = value.trim();
        let skip = value.is_empty()
            || matches!(path.as_str(), "action" | "csrf")
            || (no_dose && path == "prescription.daily_dose.unit")
            || (no_number && path == "patient.id");
        if skip {
            continue;
        }
        let json = if NUMBERS.contains(&path.as_str()) {
            value
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .and_then(|n| {
                    if n.fract() == 0.0 && n >= 0.0 {
                        Some(Value::from(n as u64))
                    } else {
                        serde_json::Number::from_f64(n).map(Value::Number)
                    }
                })
                .unwrap_or_else(|| Value::String(value.into()))
        } else if matches!(
            path.as_str(),
            "substitution.patient_refused"
                | "patient.minimum_pensioner"
                | "prescription.occupational_injury"
        ) {
            Value::Bool(matches!(value, "ja" | "true" | "on"))
        } else if is_date(path) {
            // The contract speaks ISO dates; people write 24.11.2026.
            Value::String(
                cases::fields::parse_norwegian_date(value)
                    .map_or_else(|_| value.to_string(), |d| d.to_string()),
            )
        } else if path == "patient.id" {
            Value::String(value.replace(' ', ""))
        } else {
            Value::String(value.into())
        };
        let mut node = &mut root;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let Value::Object(map) = node else { break };
            if parts.peek().is_none() {
                map.insert(part.to_string(), json);
                break;
            }
            node = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
        }
    }
    root
}

/// The form's date fields.
fn is_date(path: &str) -> bool {
    matches!(
        path,
        "date" | "patient.birth_date" | "prescription.issued" | "prescription.valid_until"
    )
}

fn kroner(v: &Value) -> String {
    domain::Ore(v.as_u64().unwrap_or(0)).to_string()
}

fn view(status: StatusCode, a: &Value) -> DispensingView {
    let text = |k: &str| a[k].as_str().unwrap_or_default().to_string();
    let payer = |code: &str, trust: Option<&str>| match (code, trust) {
        ("folketrygden", _) => "Folketrygden (Helfo)".to_string(),
        ("rhf", Some(t)) => format!("RHF, for {t}"),
        ("rhf", None) => "RHF (helseforetak ukjent)".to_string(),
        ("hf", Some(t)) => t.to_string(),
        ("patient", _) => "Pasienten".to_string(),
        (other, _) => other.to_string(),
    };
    let list = |k: &str| a[k].as_array().cloned().unwrap_or_default();
    let patient_pays =
        a["copayment_ore"].as_u64().unwrap_or(0) + a["difference_ore"].as_u64().unwrap_or(0);
    DispensingView {
        accepted: a["accepted"].as_bool().unwrap_or(false),
        status: if status == StatusCode::CREATED {
            "Utleveringen er lagret og journalført.".into()
        } else {
            "Denne utleveringen var allerede registrert: svaret er det samme som første gang, og ingenting er fakturert på nytt.".into()
        },
        name: text("dispensed_name"),
        varenr: text("dispensed_varenr"),
        register_as: match a["register_as"].as_str() {
            Some("blue") => "blå resept".into(),
            Some("h") => "H-resept".into(),
            Some("white") => "hvit resept".into(),
            _ => "–".into(),
        },
        price: kroner(&a["price_ore"]),
        patient_pays: domain::Ore(patient_pays).to_string(),
        counted: kroner(&a["copayment_counts_toward_ceiling_ore"]),
        year: a["ceiling_ore"].as_u64().map(|ceiling| {
            format!(
                "{} av egenandelstaket {}",
                kroner(&a["counted_this_year_ore"]),
                domain::Ore(ceiling)
            )
        }),
        exemption: a["exemption"].as_str().map(str::to_string),
        lines: list("lines")
            .iter()
            .map(|l| {
                (
                    payer(l["payer"].as_str().unwrap_or(""), l["trust"].as_str()),
                    kroner(&l["amount_ore"]),
                    l["basis"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        refusals: list("refusals")
            .iter()
            .map(|r| {
                (
                    r["rule"].as_str().unwrap_or_default().to_string(),
                    r["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        warnings: list("warnings")
            .iter()
            .filter_map(|w| w.as_str().map(str::to_string))
            .collect(),
        claims: list("claim_ids").iter().map(|c| c.to_string()).collect(),
    }
}

/// `POST /apotek/utlevering`.
pub(super) async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match require(&state, &headers, crate::pharmacy::PHARMACISTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let fields = form_fields(form);
    let body = dispensing_json(&fields).to_string();
    match crate::pharmacy::record_dispensing(&state, &s.user, s.role, body.as_bytes()).await {
        Ok(stored) => {
            let result = view(stored.status, &stored.answer);
            // The next dispensing gets a new id; the rest of the form stays for the next package.
            let mut next = fields.clone();
            next.insert("dispensing_id".into(), new_id());
            page(&state, &s, &next, &[], Some(result), StatusCode::OK)
        }
        Err(e) => {
            let error = FieldError {
                field: e.field.clone(),
                message: e.message.clone(),
            };
            page(&state, &s, &fields, &[error], None, e.status)
        }
    }
}
