//! The approval exemption at the edge (G1–G4): the doctor's application to DMP and the
//! pharmacy's notification, DMP's ruling, and the yearly counts of the report's table 1. The
//! rules are in [`cases::exemption`]; this module looks the product up in FEST, stores the case
//! with its event and audit record in one transaction, and answers the JSON API
//! (`/api/v1/exemptions`, `/api/v1/statistics/exemptions`). The web pages call the same
//! functions.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cases::exemption::{self, Assessment, Counted, FestApplication, Filing, Ruling, YearCount};
use cases::{Actor, Fields, Refusal};
use domain::{Date, PrescriberRole, Role};
use serde_json::{Value, json};
use store::{CaseData, CaseFilter, CaseRecord};

use crate::bodies::ExemptionRuling;
use crate::cases_api::{
    CaseError, FormBody, bad, case_json, form_body, json_answer, read, read_answer, read_body,
    saved_answer,
};
use crate::extract::{Path, Query};
use crate::workflow::{self, Saved, WorkflowError, create, ensure_version, event, update};
use crate::{AppState, authorize, now_rfc3339, today};

/// Who files exemptions: doctors apply, pharmacists notify.
pub const FILERS: &[Role] = &[Role::Prescriber, Role::Pharmacist];
/// Who reads them: the filers (their own), DMP, analysts and administrators.
pub const READERS: &[Role] = &[
    Role::Prescriber,
    Role::Pharmacist,
    Role::DmpCaseworker,
    Role::Analyst,
    Role::Administrator,
];
/// Who decides applications.
pub const DMP: &[Role] = &[Role::DmpCaseworker];
/// Who reads the yearly counts.
pub const STATISTICS_READERS: &[Role] = &[Role::Analyst, Role::DmpCaseworker, Role::Administrator];

const KIND: &str = "exemption";

/// What FEST says of the product, when a varenummer is given: it must be there, and be one that
/// needs an exemption (`Preparattype` 11).
async fn fest_application(
    state: &AppState,
    varenr: Option<&str>,
) -> Result<Option<FestApplication>, WorkflowError> {
    let Some(varenr) = varenr else {
        return Ok(None);
    };
    let invalid = |message: String| {
        WorkflowError::Refused(Refusal::Invalid(vec![cases::FieldError {
            field: "varenr".into(),
            message,
        }]))
    };
    let Some(loaded) = crate::catalogue::current(state).await? else {
        return Err(invalid(
            "ingen FEST-katalog er importert: la varenummeret stå tomt, eller importer katalogen"
                .into(),
        ));
    };
    let package = loaded
        .catalogue
        .packages
        .iter()
        .find(|p| p.varenr == varenr)
        .ok_or_else(|| {
            invalid(format!(
                "varenummer {varenr} finnes ikke i FEST-katalogen i kraft"
            ))
        })?;
    let m = &package.medicine;
    if m.preparation_type.as_ref().map(|c| c.code.as_str()) != Some("11") {
        return Err(invalid(format!(
            "{} har markedsføringstillatelse (FEST Preparattype er ikke 11): det trengs ikke godkjenningsfritak",
            m.name_form_strength
        )));
    }
    Ok(m.exemption_application
        .as_ref()
        .and_then(|c| FestApplication::from_code(&c.code)))
}

/// Files an exemption: a doctor's application or a pharmacist's notification, assessed by the
/// rules and stored with its outcome.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    prescriber: Option<PrescriberRole>,
    fields: Fields,
    today: Date,
) -> Result<(Saved, Assessment), WorkflowError> {
    let filing = exemption::filing_of(actor.role).ok_or_else(|| {
        Refusal::Forbidden("bare leger søker og apotek melder godkjenningsfritak".into())
    })?;
    let form = exemption::validate(&fields).map_err(Refusal::Invalid)?;
    let fest = fest_application(state, form.varenr.as_deref()).await?;
    let assessment = exemption::assess(&form, filing, prescriber, fest, &state.rules)?;
    let findings: Vec<Value> = assessment
        .findings
        .iter()
        .map(|f| json!({ "rule": f.rule.code(), "text": f.text }))
        .collect();
    let patient_key = match (&form.patient_id, &form.holder) {
        (Some(id), _) => id.as_str().to_string(),
        (None, Some(holder)) => format!("{}:{}", form.scope.code(), holder.to_lowercase()),
        _ => "ukjent".into(),
    };
    let data = CaseData {
        kind: KIND.into(),
        state: assessment.state.code().into(),
        author: actor.subject.clone(),
        author_name: actor.name.clone(),
        trust: actor.trust.clone(),
        atc: form.atc.to_string(),
        substance: form.substance.clone(),
        patient_key: Some(patient_key),
        scope: Some(form.scope.code().into()),
        patients: 1,
        fields: serde_json::to_string(&fields).unwrap_or_else(|_| "{}".into()),
        derived: Some(
            json!({
                "filing": filing.code(),
                "outcome": assessment.state.code(),
                "dmp_reasons": assessment.dmp_reasons,
                "findings": findings,
                "filed": today.to_string(),
                "reason": assessment.findings.last().map(|f| f.text.clone()),
            })
            .to_string(),
        ),
        valid_from: Some(assessment.valid_from.to_string()),
        valid_until: Some(assessment.valid_until.to_string()),
        created: now_rfc3339(),
        ..CaseData::default()
    };
    let (action, line) = match filing {
        Filing::Notification => (
            "notify",
            format!(
                "Meldt til DMP av {} {today}: {} for {}, til og med {}.",
                actor.name,
                form.product,
                form.scope.code(),
                assessment.valid_until
            ),
        ),
        Filing::Application => (
            "apply",
            format!(
                "Søknad til DMP fra {} {today}: {}.",
                actor.name, form.product
            ),
        ),
    };
    let e = event(actor, action, None, assessment.state.code(), line);
    let saved = create(state, KIND, &data, &e).await?;
    Ok((saved, assessment))
}

/// DMP's ruling on an application, from the version the caseworker saw.
pub async fn rule(
    state: &AppState,
    actor: &Actor,
    id: i64,
    version: i64,
    ruling: Ruling,
    reason: Option<&str>,
    today: Date,
) -> Result<(CaseRecord, Saved), WorkflowError> {
    let (record, _) = workflow::load(state, actor, id).await?;
    if record.data.kind != KIND {
        return Err(WorkflowError::NotFound);
    }
    ensure_version(&record, version)?;
    let from = exemption::State::from_code(&record.data.state)
        .ok_or_else(|| Refusal::Conflict(format!("ukjent tilstand «{}»", record.data.state)))?;
    let (to, line) = exemption::rule_on(from, actor, ruling, reason, today)?;
    let mut data = record.data.clone();
    data.state = to.code().into();
    if to == exemption::State::Approved {
        data.approved = Some(today.to_string());
    }
    let mut derived = workflow::derived_of(&record);
    derived["outcome"] = json!(to.code());
    derived["reason"] = json!(line);
    derived["decided"] = json!(today.to_string());
    data.derived = Some(derived.to_string());
    let e = event(actor, "ruling", Some(from.code()), to.code(), line);
    let saved = update(state, KIND, id, version, &data, &e).await?;
    let record = state.store.case(id).await?.ok_or(WorkflowError::NotFound)?;
    Ok((record, saved))
}

/// The exemptions `actor` may see, newest first.
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<CaseRecord>, WorkflowError> {
    let mut filter = CaseFilter {
        kind: Some(KIND.into()),
        ..CaseFilter::default()
    };
    if matches!(actor.role, Role::Prescriber | Role::Pharmacist) {
        filter.author = Some(actor.subject.clone());
    }
    let mut all = state.store.cases(&filter).await?;
    all.retain(|c| workflow::may_see(actor, c));
    all.sort_by_key(|c| std::cmp::Reverse(c.id));
    Ok(all)
}

/// **Table 1**: the yearly counts, from every exemption stored.
pub async fn yearly(state: &AppState) -> Result<Vec<YearCount>, WorkflowError> {
    Ok(counts(&state.store).await?)
}

/// **Table 1** from a store (the command line's `stats exemptions` and the service).
pub async fn counts(store: &store::Store) -> Result<Vec<YearCount>, store::StoreError> {
    let all = store
        .cases(&CaseFilter {
            kind: Some(KIND.into()),
            ..CaseFilter::default()
        })
        .await?;
    Ok(exemption::yearly_counts(all.iter().filter_map(counted)))
}

fn counted(c: &CaseRecord) -> Option<Counted> {
    let derived = workflow::derived_of(c);
    let date = |key: &str| derived[key].as_str().and_then(|d| Date::parse(d).ok());
    Some(Counted {
        filing: Filing::from_code(derived["filing"].as_str()?)?,
        state: exemption::State::from_code(&c.data.state)?,
        filed: date("filed")?,
        decided: date("decided"),
    })
}

fn assessment_json(a: &Assessment) -> Value {
    json!({
        "state": a.state.code(),
        "state_text": a.state.describe(),
        "filing": a.filing.code(),
        "valid_from": a.valid_from.to_string(),
        "valid_until": a.valid_until.to_string(),
        "dmp_reasons": a.dmp_reasons,
        "findings": a.findings.iter().map(|f| json!({"rule": f.rule.code(), "text": f.text})).collect::<Vec<_>>(),
    })
}

/// `POST /api/v1/exemptions`: `{fields}` — a doctor's application or a pharmacist's
/// notification. 201 with the case and the assessment.
pub async fn api_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, FILERS)?;
    let actor = workflow::actor(&user, role);
    let prescriber = match role {
        Role::Prescriber => Some(workflow::prescriber_role(&user)?),
        _ => None,
    };
    let FormBody { fields, .. } = form_body(&body, cases::exemption::FIELDS)?;
    let (saved, a) = submit(&state, &actor, prescriber, fields, today()).await?;
    let (record, events) = workflow::load(&state, &actor, saved.id).await?;
    let mut body = case_json(&record, &events, &[]);
    body["assessment"] = assessment_json(&a);
    Ok(saved_answer(StatusCode::CREATED, body, saved))
}

/// `GET /api/v1/exemptions`: the caller's own (doctors, pharmacies) or all (DMP, analysts).
pub async fn api_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, READERS)?;
    let actor = workflow::actor(&user, role);
    let cases = list(&state, &actor).await?;
    let seq = read(
        &state,
        &user,
        role,
        "GET /api/v1/exemptions",
        json!({ "cases": cases.iter().map(|c| c.id).collect::<Vec<_>>() }),
    )
    .await?;
    let cases: Vec<Value> = cases.iter().map(|c| case_json(c, &[], &[])).collect();
    Ok(read_answer(json!({ "cases": cases }), seq))
}

/// `GET /api/v1/exemptions/{id}`.
pub async fn api_show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, READERS)?;
    let actor = workflow::actor(&user, role);
    let (record, events) = workflow::load(&state, &actor, id).await?;
    if record.data.kind != KIND {
        return Err(WorkflowError::NotFound.into());
    }
    let seq = read(
        &state,
        &user,
        role,
        "GET /api/v1/exemptions/{id}",
        json!({ "case": id }),
    )
    .await?;
    let moves: &[&str] = if role == Role::DmpCaseworker && record.data.state == "submitted" {
        &["approve", "refuse"]
    } else {
        &[]
    };
    Ok(read_answer(case_json(&record, &events, moves), seq))
}

/// A ruling from its form or JSON value.
/// DMP's rulings by code, as [`parse_ruling`] reads them.
pub const RULINGS: &[&str] = &["approve", "refuse"];

pub fn parse_ruling(text: &str) -> Result<Ruling, CaseError> {
    match text.trim() {
        "approve" => Ok(Ruling::Approve),
        "refuse" => Ok(Ruling::Refuse),
        other => Err(bad(
            "ruling",
            &format!(
                "ukjent vedtak «{other}»; ventet en av: {}",
                RULINGS.join(", ")
            ),
        )),
    }
}

/// `POST /api/v1/exemptions/{id}/ruling`: `{version, ruling: approve|refuse, reason}`.
pub async fn api_ruling(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, DMP)?;
    let actor = workflow::actor(&user, role);
    let asked: ExemptionRuling = read_body(&body)?;
    let version = asked.version;
    let ruling = parse_ruling(&asked.ruling)?;
    let reason = asked.reason.as_deref();
    let (record, saved) = rule(&state, &actor, id, version, ruling, reason, today()).await?;
    let events = state
        .store
        .case_events(record.id)
        .await
        .map_err(WorkflowError::from)?;
    Ok(saved_answer(
        StatusCode::OK,
        case_json(&record, &events, &[]),
        saved,
    ))
}

/// `?format=csv` for the table.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CountsQuery {
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
}

/// The table as CSV (`year,applications,notifications,total`).
pub fn counts_csv(rows: &[YearCount]) -> String {
    let mut out = String::from("year,applications,notifications,total\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.year,
            r.applications,
            r.notifications,
            r.total()
        ));
    }
    out
}

/// `GET /api/v1/statistics/exemptions`: table 1 — applications DMP handled and notifications,
/// per year. Counts only, no patients: no read record is needed.
pub async fn api_counts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<CountsQuery>,
) -> Result<Response, CaseError> {
    authorize(&state, &headers, STATISTICS_READERS)?;
    let rows = yearly(&state).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(json_answer(
            StatusCode::OK,
            json!({
                "years": rows.iter().map(|r| json!({
                    "year": r.year,
                    "applications": r.applications,
                    "notifications": r.notifications,
                    "total": r.total(),
                })).collect::<Vec<_>>()
            }),
        )),
        "csv" => Ok(axum::response::IntoResponse::into_response((
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            counts_csv(&rows),
        ))),
        other => Err(bad(
            "format",
            &format!("ukjent format «{other}»; ventet json eller csv"),
        )),
    }
}
