//! The approval exemption's pages (G1–G4): the doctor's application and the pharmacy's
//! notification (`/fritak/ny`), the list (`/fritak`: one's own, or DMP's queue), the case with
//! its assessment rule by rule, and DMP's ruling. They call [`crate::exemptions`], as the API
//! does.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cases::exemption;
use cases::{FieldError, Fields};
use domain::Role;
use store::CaseRecord;

use super::{
    CaseQuery, EventView, FormPage, Frame, ListPage, Session, events_view, form_fields, forms,
    frame, labelled, lists, refusal_page, render, require, shown_on_case, summary, versioned_form,
};
use crate::exemptions::{self as flow, DMP, FILERS, READERS};
use crate::extract::{Form, Path, Query};
use crate::workflow::{self, WorkflowError};
use crate::{AppState, today};

fn row(c: &CaseRecord) -> lists::Row {
    let state = exemption::State::from_code(&c.data.state).map_or("?", |s| s.describe());
    let derived = workflow::derived_of(c);
    let filing = match derived["filing"].as_str() {
        Some("notification") => "melding fra apotek",
        _ => "søknad til DMP",
    };
    lists::Row {
        href: format!("/fritak/{}", c.id),
        cells: vec![
            format!("G-{}", c.id),
            lists::patient_reference(c.data.patient_key.as_deref()),
            format!("{} ({})", c.data.substance, c.data.atc),
            filing.into(),
            c.data.author_name.clone(),
            state.into(),
            c.data
                .valid_until
                .as_deref()
                .map(lists::norwegian_date)
                .unwrap_or_default(),
        ],
        state: c.data.state.clone(),
        keys: c.data.patient_key.clone().unwrap_or_default(),
    }
}

fn describe(code: &str) -> String {
    exemption::State::from_code(code).map_or(code.to_string(), |s| s.describe().to_string())
}

/// `GET /fritak`: one's own exemptions; DMP sees all, with the applications waiting first.
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<lists::ListQuery>,
) -> Response {
    let s = match require(&state, &headers, READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut cases = match flow::list(&state, &s.actor).await {
        Ok(c) => c,
        Err(e) => return refusal_page(&s, &e),
    };
    if s.role == Role::DmpCaseworker {
        // Waiting applications first, oldest first; then the rest, newest first.
        cases.sort_by_key(|c| {
            (
                c.data.state != "submitted",
                if c.data.state == "submitted" {
                    c.id
                } else {
                    -c.id
                },
            )
        });
    }
    let (heading, intro) = match s.role {
        Role::DmpCaseworker => (
            "Godkjenningsfritak",
            "Søknader som venter på DMPs vedtak står først; meldinger fra apotek gjelder fra de kom inn.",
        ),
        Role::Pharmacist => (
            "Apotekets meldinger om godkjenningsfritak",
            "Apoteket vurderer legens begrunnelse og melder fritaket til DMP. Produkter som må søkes om (FEST «Må søkes», negativlisten), kan ikke meldes.",
        ),
        _ => (
            "Godkjenningsfritak",
            "Uregistrerte legemidler brukes bare med godkjenningsfritak (legemiddelforskriften § 2-5), per pasient, praksis eller avdeling, for høyst ett år.",
        ),
    };
    let new_link = FILERS.contains(&s.role).then(|| {
        (
            "/fritak/ny".to_string(),
            if s.role == Role::Pharmacist {
                "Ny melding"
            } else {
                "Ny søknad"
            }
            .to_string(),
        )
    });
    render(
        StatusCode::OK,
        &ListPage {
            frame: frame(heading, Some(&s), "/fritak", f.melding.as_deref()),
            heading: heading.into(),
            intro: intro.into(),
            new_link,
            columns: [
                "Sak",
                "Gjelder",
                "Legemiddel",
                "Vei",
                "Fra",
                "Status",
                "Gyldig til",
            ]
            .map(String::from)
            .to_vec(),
            list: lists::listing("/fritak", cases.iter().map(row).collect(), &f, describe),
            empty: "Ingen godkjenningsfritak ennå.".into(),
        },
    )
}

fn form_page(s: &Session, fields: &Fields, errors: &[FieldError], status: StatusCode) -> Response {
    let mut sections = forms::exemption();
    let unplaced = forms::fill(&mut sections, fields, errors);
    let mut all: Vec<FieldError> = errors
        .iter()
        .filter(|e| !unplaced.contains(e))
        .cloned()
        .collect();
    all.extend(unplaced);
    let pharmacy = s.role == Role::Pharmacist;
    render(
        status,
        &FormPage {
            frame: frame("Godkjenningsfritak", Some(s), "/fritak", None),
            heading: if pharmacy {
                "Melding om godkjenningsfritak (apotek)"
            } else {
                "Søknad om godkjenningsfritak til DMP"
            }
            .into(),
            intro: if pharmacy {
                "Apoteket har vurdert legens begrunnelse og melder fritaket. Det kan utleveres med en gang der reglene tillater det."
            } else {
                "Gjelder én pasient, en praksis eller en sykehusavdeling, for en mengde eller en periode på høyst ett år."
            }
            .into(),
            action: "/fritak/ny".into(),
            errors: summary(&sections, &all),
            sections,
            hidden: Vec::new(),
            buttons: vec![(
                "submit".into(),
                if pharmacy { "Send meldingen" } else { "Send søknaden" }.into(),
            )],
            result: None,
        },
    )
}

/// `GET /fritak/ny`.
pub async fn new(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match require(&state, &headers, FILERS).await {
        Ok(s) => {
            let mut f = Fields::new();
            f.insert("valid_from".into(), today().to_string());
            f.insert("scope".into(), "patient".into());
            f.insert("ground".into(), "no_marketed_alternative".into());
            if s.role == Role::Prescriber {
                f.insert("prescriber_name".into(), s.actor.name.clone());
            }
            form_page(&s, &f, &[], StatusCode::OK)
        }
        Err(r) => r,
    }
}

/// `POST /fritak/ny`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match require(&state, &headers, FILERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut fields = form_fields(form);
    fields.remove("action");
    let prescriber = match s.role {
        Role::Prescriber => match workflow::prescriber_role(&s.user) {
            Ok(p) => Some(p),
            Err(e) => return refusal_page(&s, &e),
        },
        _ => None,
    };
    match flow::submit(&state, &s.actor, prescriber, fields.clone(), today()).await {
        Ok((saved, _)) => Redirect::to(&format!("/fritak/{}", saved.id)).into_response(),
        Err(WorkflowError::Refused(cases::Refusal::Invalid(errors))) => {
            form_page(&s, &fields, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        // The rules close this path (G1's negative list, G2, G3): said on the form, so nothing
        // typed is lost.
        Err(WorkflowError::Refused(
            r @ (cases::Refusal::Conflict(_) | cases::Refusal::Forbidden(_)),
        )) => {
            let status = if matches!(r, cases::Refusal::Forbidden(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::CONFLICT
            };
            let e = FieldError {
                field: "$".into(),
                message: r.message(),
            };
            form_page(&s, &fields, &[e], status)
        }
        Err(e) => refusal_page(&s, &e),
    }
}

#[derive(Template)]
#[template(path = "exemption_case.html")]
struct CasePage {
    frame: Frame,
    id: i64,
    version: i64,
    state: String,
    state_code: String,
    filing: String,
    filing_code: String,
    in_force: bool,
    valid_from: String,
    valid_until: String,
    dmp_reasons: Vec<String>,
    findings: Vec<(String, String)>,
    summary: Vec<(String, String)>,
    events: Vec<EventView>,
    may_rule: bool,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    s: &Session,
    id: i64,
    flash: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (record, events) = match workflow::load(state, &s.actor, id).await {
        Ok(r) if r.0.data.kind == "exemption" => r,
        Ok(_) => return refusal_page(s, &WorkflowError::NotFound),
        Err(e) => return refusal_page(s, &e),
    };
    let subject = serde_json::json!({ "case": id, "patient": record.data.patient_key });
    if let Err(r) = super::audit_page_read(state, s, &format!("GET /fritak/{id}"), subject).await {
        return r;
    }
    let st = exemption::State::from_code(&record.data.state).unwrap_or(exemption::State::Submitted);
    let derived = workflow::derived_of(&record);
    let mut fields = workflow::fields_of(&record);
    if s.role != Role::DmpCaseworker
        && let Some(id) = fields.get_mut("patient_id")
        && id.len() == 11
    {
        id.replace_range(6.., "*****");
    }
    let filing_code = derived["filing"]
        .as_str()
        .unwrap_or("application")
        .to_string();
    render(
        status,
        &CasePage {
            frame: frame(format!("Sak G-{id}"), Some(s), "/fritak", flash),
            id,
            version: record.version,
            state: st.describe().into(),
            state_code: st.code().into(),
            filing: if filing_code == "notification" {
                "melding fra apotek"
            } else {
                "søknad til DMP"
            }
            .into(),
            filing_code,
            in_force: st.in_force(),
            valid_from: record
                .data
                .valid_from
                .as_deref()
                .map(lists::norwegian_date)
                .unwrap_or_default(),
            valid_until: record
                .data
                .valid_until
                .as_deref()
                .map(lists::norwegian_date)
                .unwrap_or_default(),
            dmp_reasons: derived["dmp_reasons"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            findings: derived["findings"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|f| {
                            (
                                f["rule"].as_str().unwrap_or("").to_string(),
                                f["text"].as_str().unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            summary: labelled(&fields, &forms::exemption()),
            events: events_view(&events),
            may_rule: s.role == Role::DmpCaseworker && st == exemption::State::Submitted,
            error,
        },
    )
}

/// `GET /fritak/{id}`.
pub async fn case(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Query(q): Query<CaseQuery>,
) -> Response {
    let s = match require(&state, &headers, READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    show(&state, &s, id, q.melding.as_deref(), None, StatusCode::OK).await
}

/// `POST /fritak/{id}/vedtak`: DMP approves or refuses.
pub async fn ruling(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (s, fields, version) = match versioned_form(&state, &headers, DMP, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    let ruling = match flow::parse_ruling(get("ruling")) {
        Ok(r) => r,
        Err(crate::cases_api::CaseError(e)) => {
            let (status, errors) = crate::cases_api::status_and_errors(&e);
            return show(
                &state,
                &s,
                id,
                None,
                Some(errors[0].message.clone()),
                status,
            )
            .await;
        }
    };
    match flow::rule(
        &state,
        &s.actor,
        id,
        version,
        ruling,
        Some(get("reason")),
        today(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/fritak/{id}?melding=vedtak")).into_response(),
        Err(e) => match shown_on_case(&e) {
            Some((status, text)) => show(&state, &s, id, None, Some(text), status).await,
            None => refusal_page(&s, &e),
        },
    }
}
