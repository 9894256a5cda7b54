//! The case workflows' JSON API (`/api/v1/off-label`, `/api/v1/helfo`, `/api/v1/overviews`).
//! Thin: parse, authorize, call [`crate::workflow`], answer. Every refusal says why, with the
//! field it is about: 403 (the role may not), 409 (the case is elsewhere, or has moved since the
//! caller's version), 422 (a field is wrong; all of them are listed).

use std::sync::Arc;

use crate::extract::{Path, Query};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cases::helfo::{self, Assessment, Ruling};
use cases::off_label::{self, Move, Request};
use cases::overview::{self, Granularity, Table};
use cases::{Fields, Refusal};
use domain::{Atc, Date, Role};
use serde_json::{Value, json};
use store::{CaseEvent, CaseFilter, CaseRecord};

use crate::bodies::{CoverageQuestion, HelfoAnswer, HelfoRuling, OffLabelMove};
use crate::workflow::{self, HelfoSubmitted, WorkflowError};
use crate::{ApiError, AppState, authorize, today};

/// Who may file and follow off-label applications.
pub const OFF_LABEL_STAFF: &[Role] = &[
    Role::Prescriber,
    Role::ClinicHead,
    Role::MedicalDirector,
    Role::Administrator,
    Role::Analyst,
];
/// Who may act on off-label applications.
pub const OFF_LABEL_ACTORS: &[Role] = &[Role::Prescriber, Role::ClinicHead, Role::MedicalDirector];
/// Who may apply to Helfo.
pub const APPLICANTS: &[Role] = &[Role::Prescriber];
/// Who may read § 3 cases.
pub const HELFO_READERS: &[Role] = &[Role::Prescriber, Role::HelfoCaseworker, Role::Administrator];
/// Helfo's caseworkers.
pub const CASEWORKERS: &[Role] = &[Role::HelfoCaseworker];
/// Who checks a dispensing against the patient's decisions.
pub const COVERAGE: &[Role] = &[Role::Pharmacist, Role::Prescriber, Role::HelfoCaseworker];
/// Who reads the overviews (O4).
pub const OVERVIEW_READERS: &[Role] = &[
    Role::ClinicHead,
    Role::MedicalDirector,
    Role::Analyst,
    Role::Administrator,
];

/// A workflow refusal as an HTTP answer.
pub struct CaseError(pub WorkflowError);

impl From<WorkflowError> for CaseError {
    fn from(e: WorkflowError) -> Self {
        CaseError(e)
    }
}

impl From<ApiError> for CaseError {
    fn from(e: ApiError) -> Self {
        // 401 is carried as an error on `Authorization` (see `status_and_errors`).
        let refusal = match e.status {
            StatusCode::FORBIDDEN => Refusal::Forbidden(e.message),
            _ => Refusal::Invalid(vec![cases::FieldError {
                field: if e.status == StatusCode::UNAUTHORIZED {
                    "Authorization".into()
                } else {
                    e.field
                },
                message: e.message,
            }]),
        };
        CaseError(WorkflowError::Refused(refusal))
    }
}

/// Status and errors of a refusal (shared with the web pages).
pub fn status_and_errors(e: &WorkflowError) -> (StatusCode, Vec<cases::FieldError>) {
    let one = |field: &str, message: String| {
        vec![cases::FieldError {
            field: field.into(),
            message,
        }]
    };
    match e {
        WorkflowError::Refused(Refusal::Forbidden(m)) => {
            (StatusCode::FORBIDDEN, one("$", m.clone()))
        }
        WorkflowError::Refused(Refusal::Conflict(m)) => {
            (StatusCode::CONFLICT, one("state", m.clone()))
        }
        WorkflowError::Refused(Refusal::Invalid(errors)) => {
            let status = if errors.iter().any(|e| e.field == "Authorization") {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (status, errors.clone())
        }
        WorkflowError::Stale(m) => (StatusCode::CONFLICT, one("version", m.clone())),
        WorkflowError::NotFound => (StatusCode::NOT_FOUND, one("id", "saken finnes ikke".into())),
        WorkflowError::Store(err) => {
            tracing::error!(error = %err, "saksbehandling");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                one(
                    "$",
                    "databasen svarte ikke; ingenting er endret, prøv igjen".into(),
                ),
            )
        }
    }
}

impl IntoResponse for CaseError {
    fn into_response(self) -> Response {
        let (status, errors) = status_and_errors(&self.0);
        let body = json!({
            "error": { "field": errors[0].field, "message": errors[0].message },
            "errors": errors.iter().map(|e| json!({"field": e.field, "message": e.message})).collect::<Vec<_>>(),
        });
        let mut response = (status, json_type(), body.to_string()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn json_type() -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )]
}

pub(crate) fn json_answer(status: StatusCode, body: Value) -> Response {
    (status, json_type(), body.to_string()).into_response()
}

/// Records a read of health data in the audit trail before it is answered (see
/// [`crate::audit_read`]); the record's number goes out in `X-Audit-Seq`.
pub(crate) async fn read(
    state: &AppState,
    user: &crate::User,
    role: Role,
    endpoint: &str,
    subject: Value,
) -> Result<i64, CaseError> {
    Ok(crate::audit_read(state, user, role, endpoint, subject)
        .await?
        .seq)
}

/// A JSON answer with the audit record of the read in `X-Audit-Seq`.
pub(crate) fn read_answer(body: Value, seq: i64) -> Response {
    audited_answer(StatusCode::OK, body, seq)
}

/// A JSON answer naming its audit record in `X-Audit-Seq`.
fn audited_answer(status: StatusCode, body: Value, seq: i64) -> Response {
    let mut response = json_answer(status, body);
    response.headers_mut().insert(
        axum::http::header::HeaderName::from_static("x-audit-seq"),
        axum::http::HeaderValue::from(seq),
    );
    response
}

/// A JSON answer to a stored change, with the change's audit record in `X-Audit-Seq`.
pub(crate) fn saved_answer(status: StatusCode, body: Value, saved: workflow::Saved) -> Response {
    audited_answer(status, body, saved.audit_seq)
}

pub(crate) fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, CaseError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad("$", "ventet et JSON-objekt")),
        Err(e) => Err(bad("$", &format!("ugyldig JSON: {e}"))),
    }
}

/// A body read by its struct ([`crate::bodies`]): what is wrong is named by its field, as every
/// other refusal of a case.
pub(crate) fn read_body<'de, T: serde::Deserialize<'de>>(body: &'de [u8]) -> Result<T, CaseError> {
    contract::read_object(body).map_err(|e| bad(&e.field, &e.message))
}

pub(crate) fn bad(field: &str, message: &str) -> CaseError {
    CaseError(WorkflowError::Refused(Refusal::Invalid(vec![
        cases::FieldError {
            field: field.into(),
            message: message.into(),
        },
    ])))
}

/// A case form sent as JSON: `{fields, submit?, version?}`.
pub(crate) struct FormBody {
    /// The body's keys.
    pub map: serde_json::Map<String, Value>,
    /// The form's fields.
    pub fields: Fields,
    /// Submit (checked in full and decided) rather than save a draft.
    pub submit: bool,
}

/// Reads a case form: a key other than `fields`, `submit` and `version`, a field name the form
/// (`form`: the case kind's `FIELDS`) does not have, or a `submit` that is not true or false is
/// refused, naming it — a misspelt field would otherwise be dropped and the case filed without it.
pub(crate) fn form_body(body: &[u8], form: &[&str]) -> Result<FormBody, CaseError> {
    let map = body_object(body)?;
    if let Some(key) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "fields" | "submit" | "version"))
    {
        return Err(bad(key, "ukjent nøkkel: ventet fields, submit og version"));
    }
    let submit = match map.get("submit") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("submit", "ventet true eller false")),
    };
    if let Some(Value::Object(given)) = map.get("fields")
        && let Some(name) = given.keys().find(|k| !form.contains(&k.as_str()))
    {
        return Err(bad(
            &format!("fields.{name}"),
            "skjemaet har ikke dette feltet (se API-beskrivelsen for feltnavnene)",
        ));
    }
    let fields = fields_from_json(map.get("fields"))?;
    Ok(FormBody {
        map,
        fields,
        submit,
    })
}

/// The form's fields from JSON: strings as they are, numbers and booleans as text, arrays of
/// strings as lines (evaluation dates, stop rules).
pub fn fields_from_json(value: Option<&Value>) -> Result<Fields, CaseError> {
    let Some(Value::Object(map)) = value else {
        return Err(bad("fields", "ventet et objekt med skjemaets felt"));
    };
    let mut fields = Fields::new();
    for (k, v) in map {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            Value::Array(items) => {
                let mut lines = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => lines.push(s.clone()),
                        _ => return Err(bad(&format!("fields.{k}"), "ventet en liste av tekster")),
                    }
                }
                lines.join("\n")
            }
            Value::Object(_) => {
                return Err(bad(
                    &format!("fields.{k}"),
                    "ventet tekst, tall, ja/nei eller en liste",
                ));
            }
        };
        fields.insert(k.clone(), text);
    }
    Ok(fields)
}

pub(crate) fn version_of(map: &serde_json::Map<String, Value>) -> Result<i64, CaseError> {
    map.get("version").and_then(Value::as_i64).ok_or_else(|| {
        bad(
            "version",
            "ventet versjonen saken hadde da du leste den (heltall)",
        )
    })
}

/// A case as JSON: its columns, the form, what the engine filled in, its history, and the
/// moves open to the caller.
pub fn case_json(record: &CaseRecord, events: &[CaseEvent], moves: &[&str]) -> Value {
    let d = &record.data;
    let state_text = if d.kind == "helfo" {
        helfo::State::from_code(&d.state).map_or("?", |s| s.describe())
    } else if d.kind == "exemption" {
        cases::exemption::State::from_code(&d.state).map_or("?", |s| s.describe())
    } else {
        off_label::State::from_code(&d.state).map_or("?", |s| s.describe())
    };
    let mut fields = workflow::fields_of(record);
    // A national identity number is shown only as its first six digits outside the case page.
    if let Some(id) = fields.get_mut("patient_id")
        && id.len() == 11
    {
        id.replace_range(6.., "*****");
    }
    json!({
        "id": record.id,
        "kind": d.kind,
        "version": record.version,
        "state": d.state,
        "state_text": state_text,
        "author": d.author_name,
        "trust": d.trust,
        "home_trust": d.home_trust,
        "clinic": d.clinic,
        "atc": d.atc,
        "substance": d.substance,
        "cost_estimate_ore": d.cost_ore,
        "valid_from": d.valid_from,
        "valid_until": d.valid_until,
        "omeq": d.omeq,
        "approved": d.approved,
        "created": d.created,
        "updated": record.updated,
        "fields": fields,
        "derived": workflow::derived_of(record),
        "moves": moves,
        "events": events.iter().map(|e| json!({
            "version": e.version,
            "at": e.at,
            "by": e.actor_name,
            "role": e.role,
            "action": e.action,
            "from": e.from_state,
            "to": e.to_state,
            "record": e.record,
        })).collect::<Vec<_>>(),
    })
}

/// `POST /api/v1/off-label`: `{fields, submit}`.
pub async fn off_label_create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, APPLICANTS)?;
    let actor = workflow::actor(&user, role);
    let FormBody { fields, submit, .. } = form_body(&body, cases::off_label::FIELDS)?;
    let saved = workflow::off_label_save(&state, &actor, None, fields, submit, today()).await?;
    answer_case(&state, &actor, saved, StatusCode::CREATED).await
}

/// `PUT /api/v1/off-label/{id}`: `{version, fields, submit}` (a draft or a returned one).
pub async fn off_label_update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, APPLICANTS)?;
    let actor = workflow::actor(&user, role);
    let FormBody {
        map,
        fields,
        submit,
    } = form_body(&body, cases::off_label::FIELDS)?;
    let version = version_of(&map)?;
    // Visibility first: a case the caller may not see does not exist for them.
    workflow::load(&state, &actor, id).await?;
    let saved =
        workflow::off_label_save(&state, &actor, Some((id, version)), fields, submit, today())
            .await?;
    answer_case(&state, &actor, saved, StatusCode::OK).await
}

/// The case as the caller now sees it, with its history and the moves open to them.
async fn answer_case(
    state: &AppState,
    actor: &cases::Actor,
    saved: workflow::Saved,
    status: StatusCode,
) -> Result<Response, CaseError> {
    let (record, events) = workflow::load(state, actor, saved.id).await?;
    let moves = move_codes(&record, actor);
    Ok(saved_answer(
        status,
        case_json(&record, &events, &moves),
        saved,
    ))
}

fn move_codes(record: &CaseRecord, actor: &cases::Actor) -> Vec<&'static str> {
    if record.data.kind != "off_label" {
        return Vec::new();
    }
    workflow::head(record)
        .moves_for(actor)
        .into_iter()
        .map(Move::code)
        .collect()
}

#[derive(serde::Deserialize)]
pub(crate) struct ListQuery {
    state: Option<String>,
}

/// `GET /api/v1/off-label?state=…`: the cases the caller may see.
pub async fn off_label_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, OFF_LABEL_STAFF)?;
    let actor = workflow::actor(&user, role);
    let all = state
        .store
        .cases(&CaseFilter {
            kind: Some("off_label".into()),
            states: q.state.into_iter().collect(),
            ..CaseFilter::default()
        })
        .await
        .map_err(WorkflowError::from)?;
    let shown: Vec<&CaseRecord> = all
        .iter()
        .filter(|c| workflow::may_see(&actor, c))
        .collect();
    let seq = read(
        &state,
        &user,
        role,
        "GET /api/v1/off-label",
        json!({ "cases": shown.iter().map(|c| c.id).collect::<Vec<_>>() }),
    )
    .await?;
    let visible: Vec<Value> = shown
        .iter()
        .map(|c| case_json(c, &[], &move_codes(c, &actor)))
        .collect();
    Ok(read_answer(json!({ "cases": visible }), seq))
}

/// `GET /api/v1/off-label/{id}`.
pub async fn off_label_get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, CaseError> {
    case_get(&state, id, &headers, OFF_LABEL_STAFF, "off_label").await
}

/// `GET /api/v1/helfo/applications/{id}`.
pub async fn helfo_get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, CaseError> {
    case_get(&state, id, &headers, HELFO_READERS, "helfo").await
}

async fn case_get(
    state: &AppState,
    id: i64,
    headers: &HeaderMap,
    allowed: &[Role],
    kind: &str,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(state, headers, allowed)?;
    let actor = workflow::actor(&user, role);
    let (record, events) = workflow::load(state, &actor, id).await?;
    if record.data.kind != kind {
        return Err(CaseError(WorkflowError::NotFound));
    }
    let seq = read(
        state,
        &user,
        role,
        &format!(
            "GET /api/v1/{}/{id}",
            if kind == "helfo" {
                "helfo/applications"
            } else {
                "off-label"
            }
        ),
        json!({ "case": id, "patient": record.data.patient_key }),
    )
    .await?;
    let moves = move_codes(&record, &actor);
    Ok(read_answer(case_json(&record, &events, &moves), seq))
}

/// `POST /api/v1/off-label/{id}/moves`: `{version, move, reason, stop_rule?}`.
pub async fn off_label_move(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, OFF_LABEL_ACTORS)?;
    let actor = workflow::actor(&user, role);
    let asked: OffLabelMove = read_body(&body)?;
    let movement = Move::from_code(&asked.movement).ok_or_else(|| {
        let codes: Vec<&str> = Move::ALL.iter().map(|m| m.code()).collect();
        bad(
            "move",
            &format!(
                "ukjent trekk «{}»; ventet en av: {}",
                asked.movement,
                codes.join(", ")
            ),
        )
    })?;
    let version = asked.version;
    let request = Request {
        movement,
        reason: asked.reason,
        stop_rule: asked.stop_rule.and_then(|i| usize::try_from(i).ok()),
    };
    let saved = workflow::off_label_move(&state, &actor, id, version, &request, today()).await?;
    answer_case(&state, &actor, saved, StatusCode::OK).await
}

/// `POST /api/v1/helfo/lookup`: `{fields: {patient_id_kind, patient_id, atc, substance, brand?}}`.
pub async fn helfo_lookup(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, APPLICANTS)?;
    let FormBody { fields, .. } = form_body(&body, cases::helfo::FIELDS)?;
    let prescriber = user
        .prescriber_role
        .as_deref()
        .and_then(domain::PrescriberRole::from_code);
    let found = workflow::helfo_lookup(&state, &fields, today(), prescriber).await?;
    let seq = read(
        &state,
        &user,
        role,
        "POST /api/v1/helfo/lookup",
        json!({
            "patient": fields.get("patient_id"),
            "atc": fields.get("atc"),
            "cases": found.existing.iter().map(|c| c.id).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(read_answer(
        json!({
            "h_list": found.h_list,
            "applicant_warning": found.applicant_warning,
            "existing": found.existing.iter().map(|c| json!({
                "id": c.id, "state": c.data.state, "atc": c.data.atc,
                "valid_until": c.data.valid_until,
            })).collect::<Vec<_>>(),
        }),
        seq,
    ))
}

fn assessment_json(a: &Assessment) -> Value {
    let outcome = match a {
        Assessment::NotNeeded { .. } => "not_needed",
        Assessment::Granted { .. } => "granted",
        Assessment::Refused { .. } => "refused",
        Assessment::Manual { .. } => "manual",
        Assessment::Paper { .. } => "paper",
    };
    let mut v = json!({ "outcome": outcome, "reason": a.reason() });
    match a {
        Assessment::Refused { rule, .. } | Assessment::NotNeeded { rule, .. } => {
            v["rule"] = json!(rule.code());
        }
        Assessment::Granted {
            valid_from,
            valid_until,
            ..
        } => {
            v["valid_from"] = json!(valid_from.to_string());
            v["valid_until"] = json!(valid_until.map(|d| d.to_string()));
        }
        _ => {}
    }
    v
}

/// `POST /api/v1/helfo/applications`: `{fields}`; the prescriber's role comes from the token.
pub async fn helfo_create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, APPLICANTS)?;
    let actor = workflow::actor(&user, role);
    let prescriber = workflow::prescriber_role(&user)?;
    let FormBody { fields, .. } = form_body(&body, cases::helfo::FIELDS)?;
    match workflow::helfo_submit(&state, &actor, prescriber, fields, today()).await? {
        HelfoSubmitted::NotNeeded(a) => Ok(json_answer(
            StatusCode::OK,
            json!({ "assessment": assessment_json(&a) }),
        )),
        HelfoSubmitted::Stored(saved, a) => {
            let (record, events) = workflow::load(&state, &actor, saved.id).await?;
            let mut body = case_json(&record, &events, &[]);
            body["assessment"] = assessment_json(&a);
            Ok(saved_answer(StatusCode::CREATED, body, saved))
        }
    }
}

/// `GET /api/v1/helfo/queue`: the cases waiting for a caseworker, oldest first.
pub async fn helfo_queue(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, CASEWORKERS)?;
    let queue = state
        .store
        .cases(&CaseFilter {
            kind: Some("helfo".into()),
            states: vec!["manual".into(), "paper".into(), "more_information".into()],
            ..CaseFilter::default()
        })
        .await
        .map_err(WorkflowError::from)?;
    let seq = read(
        &state,
        &user,
        role,
        "GET /api/v1/helfo/queue",
        json!({ "cases": queue.iter().map(|c| c.id).collect::<Vec<_>>() }),
    )
    .await?;
    let cases: Vec<Value> = queue.iter().map(|c| case_json(c, &[], &[])).collect();
    Ok(read_answer(json!({ "cases": cases }), seq))
}

/// `POST /api/v1/helfo/applications/{id}/ruling`: `{version, ruling: grant|refuse,
/// valid_until?, reason}`.
pub async fn helfo_ruling(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, CASEWORKERS)?;
    let actor = workflow::actor(&user, role);
    let asked: HelfoRuling = read_body(&body)?;
    let given = |field: &str, date: &Option<String>| match date.as_deref() {
        Some(d) if d.trim().is_empty() => {
            Err(bad(field, "ventet en dato ÅÅÅÅ-MM-DD, eller utelat feltet"))
        }
        d => Ok(d.unwrap_or("").to_string()),
    };
    let ruling = parse_ruling(
        &asked.ruling,
        &given("valid_until", &asked.valid_until)?,
        &given("deadline", &asked.deadline)?,
    )?;
    let (version, reason) = (asked.version, asked.reason.as_str());
    let (record, saved) =
        workflow::helfo_rule(&state, &actor, id, version, &ruling, reason, today()).await?;
    helfo_saved(&state, &record, saved).await
}

/// The answer to a change of a § 3 case: the case with its history, and the audit record.
async fn helfo_saved(
    state: &AppState,
    record: &CaseRecord,
    saved: workflow::Saved,
) -> Result<Response, CaseError> {
    let events = state
        .store
        .case_events(record.id)
        .await
        .map_err(WorkflowError::from)?;
    Ok(saved_answer(
        StatusCode::OK,
        case_json(record, &events, &[]),
        saved,
    ))
}

/// Helfo's rulings by code, as [`parse_ruling`] reads them.
pub const HELFO_RULINGS: &[&str] = &["grant", "refuse", "more_information"];

/// A ruling from its form or JSON values: `grant` (with `valid_until`), `refuse`, or
/// `more_information` (with `deadline`; empty for the rule data's default).
pub fn parse_ruling(ruling: &str, valid_until: &str, deadline: &str) -> Result<Ruling, CaseError> {
    let date = |field: &str, text: &str| match text.trim() {
        "" => Ok(None),
        d => cases::fields::parse_norwegian_date(d)
            .map(Some)
            .map_err(|e| bad(field, &e.to_string())),
    };
    match ruling {
        "grant" => Ok(Ruling::Grant {
            valid_until: date("valid_until", valid_until)?,
        }),
        "refuse" => Ok(Ruling::Refuse),
        "more_information" => Ok(Ruling::AskForInformation {
            deadline: date("deadline", deadline)?,
        }),
        other => Err(bad(
            "ruling",
            &format!(
                "ukjent vedtak «{other}»; ventet en av: {}",
                HELFO_RULINGS.join(", ")
            ),
        )),
    }
}

/// `POST /api/v1/helfo/applications/{id}/answer`: `{version, answer}` — the applicant's answer
/// to a caseworker's request for more information; the case goes back to the queue.
pub async fn helfo_answer(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, APPLICANTS)?;
    let actor = workflow::actor(&user, role);
    let HelfoAnswer { version, answer } = read_body(&body)?;
    let text = match answer.trim() {
        "" => return Err(bad("answer", "ventet tekst: opplysningene Helfo ba om")),
        _ => answer.as_str(),
    };
    let (record, saved) =
        workflow::helfo_answer(&state, &actor, id, version, text, today()).await?;
    helfo_saved(&state, &record, saved).await
}

/// `POST /api/v1/helfo/coverage`: `{patient_id, atc, date?, omeq?}` — the decision a blue
/// prescription is dispensed against (B5), or why there is none.
pub async fn helfo_coverage(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, COVERAGE)?;
    let asked: CoverageQuestion = read_body(&body)?;
    // A fødselsnummer or a D-number (first digit 4–7), its check digits checked: a typing error
    // is named, not answered «no grant» (found by schemathesis: "" was).
    let kind = match asked.patient_id.trim().as_bytes().first() {
        Some(b'4'..=b'7') => domain::PatientId::Dnr,
        _ => domain::PatientId::Fnr,
    };
    let patient = domain::identity::PersonId::parse(&asked.patient_id, kind)
        .map_err(|m| bad("patient_id", m))?;
    let patient_id = patient.as_str();
    let atc = Atc::parse(&asked.atc).map_err(|e| bad("atc", &e.to_string()))?;
    let date = match asked.date.as_deref() {
        None => today(),
        Some(d) => Date::parse(d).map_err(|e| bad("date", &e.to_string()))?,
    };
    let omeq = match asked.omeq {
        Some(o) if !(o.is_finite() && o >= 0.0) => {
            return Err(bad(
                "omeq",
                "ventet et tall, 0 eller mer (OMEQ mg per døgn)",
            ));
        }
        o => o,
    };
    let answer = match workflow::helfo_coverage(&state, patient_id, atc, date, omeq, None).await? {
        Ok(g) => json!({
            "covered": true,
            "case": g.case_id,
            "valid_from": g.valid_from.to_string(),
            "valid_until": g.valid_until.map(|d| d.to_string()),
            "omeq": g.omeq,
        }),
        Err(why) => json!({ "covered": false, "reason": why }),
    };
    let seq = read(
        &state,
        &user,
        role,
        "POST /api/v1/helfo/coverage",
        json!({ "patient": patient_id, "atc": atc.to_string(), "date": date.to_string() }),
    )
    .await?;
    Ok(read_answer(answer, seq))
}

#[derive(serde::Deserialize)]
pub(crate) struct OverviewQuery {
    format: Option<String>,
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
}

/// Whose cases a reader's overviews cover: a clinic head or medical director sees their own
/// trust's (O4: the trust follows up its own treatment); the analysts and administrators, who
/// work nationally, see all. A trust role without a trust sees nothing rather than everything.
pub fn overview_scope(role: Role, trust: Option<&str>) -> Option<String> {
    match role {
        Role::ClinicHead | Role::MedicalDirector => Some(trust.unwrap_or("").to_string()),
        _ => None,
    }
}

/// The overview tables by name, with their parameters checked, over the cases of `scope` (a
/// trust) or of every trust (`None`).
pub async fn overview_table(
    state: &AppState,
    scope: Option<&str>,
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
    period: Option<&str>,
) -> Result<Table, CaseError> {
    let mut rows = workflow::overview_rows(state).await?;
    if let Some(trust) = scope {
        rows.retain(|r| r.trust.as_deref() == Some(trust));
    }
    let today = today();
    let date = |field: &str, v: Option<&str>, default: Date| match v.filter(|s| !s.is_empty()) {
        Some(d) => Date::parse(d).map_err(|e| bad(field, &e.to_string())),
        None => Ok(default),
    };
    // Read every parameter whichever overview is asked for: a wrong value is named, never
    // passed over in silence.
    let from = date(
        "from",
        from,
        Date::from_ymd(today.year(), 1, 1).unwrap_or(today),
    )?;
    let to = date("to", to, today)?;
    if to < from {
        return Err(bad("to", "til-datoen må være etter fra-datoen"));
    }
    let granularity = match period.filter(|p| !p.is_empty()) {
        None => Granularity::Year,
        Some(p) => Granularity::from_code(p)
            .ok_or_else(|| bad("period", "ventet month, quarter eller year"))?,
    };
    match name {
        "kostnader" => Ok(overview::approved_cost(&rows, granularity, from, to)),
        "utproving" => Ok(overview::patients_on_trial_treatment(&rows)),
        "soknader" => Ok(overview::applications_by_state_and_age(&rows, today)),
        _ => Err(CaseError(WorkflowError::NotFound)),
    }
}

/// `GET /api/v1/overviews/{name}?format=json|csv|xlsx&from&to&period`: `kostnader`,
/// `utproving`, `soknader`.
pub async fn overview_get(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, CaseError> {
    let (user, role) = authorize(&state, &headers, OVERVIEW_READERS)?;
    read(
        &state,
        &user,
        role,
        &format!("GET /api/v1/overviews/{name}"),
        json!({ "overview": name, "from": q.from, "to": q.to, "period": q.period }),
    )
    .await?;
    let scope = overview_scope(role, user.trust.as_deref());
    let table = overview_table(
        &state,
        scope.as_deref(),
        &name,
        q.from.as_deref(),
        q.to.as_deref(),
        q.period.as_deref(),
    )
    .await?;
    export(&table, &name, q.format.as_deref().unwrap_or("json"))
}

/// The table as JSON, CSV or XLSX.
pub fn export(table: &Table, name: &str, format: &str) -> Result<Response, CaseError> {
    let disposition = |ext: &str| {
        HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\""))
            .unwrap_or(HeaderValue::from_static("attachment"))
    };
    match format {
        "json" => Ok(json_answer(
            StatusCode::OK,
            json!({
                "title": table.title,
                "columns": table.columns,
                "rows": table.rows.iter().map(|r| r.iter().map(|c| match c {
                    overview::Cell::Text(t) => json!(t),
                    overview::Cell::Count(n) => json!(n),
                    overview::Cell::Money(o) => json!(o.0),
                    overview::Cell::Credit(o) => json!(-i128::from(o.0)),
                }).collect::<Vec<_>>()).collect::<Vec<_>>(),
            }),
        )),
        "csv" => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (header::CONTENT_DISPOSITION, disposition("csv")),
            ],
            overview::csv(table),
        )
            .into_response()),
        "xlsx" => {
            let bytes = crate::xlsx::table(table).map_err(|e| {
                CaseError(WorkflowError::Refused(Refusal::Conflict(format!(
                    "XLSX: {e}"
                ))))
            })?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        ),
                    ),
                    (header::CONTENT_DISPOSITION, disposition("xlsx")),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(bad(
            "format",
            &format!("ukjent format «{other}»; ventet json, csv eller xlsx"),
        )),
    }
}
