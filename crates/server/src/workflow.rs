//! The case workflows at the edge: load a case, ask the pure `cases` crate what may happen,
//! store the answer (the case and its event in one transaction, from the version the form was
//! made from), then record it in the audit trail. The JSON API and the web pages both call
//! these functions, so they cannot disagree.
//!
//! A crash between steps loses nothing: the case row, its event and its audit record commit
//! together or not at all (one transaction in `store`), and the answer carries the record's
//! sequence number (`X-Audit-Seq`), as decisions do.

use cases::helfo::{self, Assessment, Ruling};
use cases::off_label::{self, CaseHead, Move, Request, State};
use cases::{Actor, FieldError, Fields, Refusal};
use domain::{Atc, Date, PatientId, PrescriberRole, Role};
use serde_json::{Value, json};
use store::{CaseData, CaseEvent, CaseFilter, CaseRecord, NewRecord, StoreError};

use crate::{AppState, User, now_rfc3339};

/// Why a workflow step did not happen.
#[derive(Debug)]
pub enum WorkflowError {
    /// The rules refused it (forbidden, conflict, invalid fields).
    Refused(Refusal),
    /// Someone else changed the case since the form was loaded.
    Stale(String),
    /// No such case (or not one the caller may see).
    NotFound,
    /// The database failed.
    Store(StoreError),
}

impl From<Refusal> for WorkflowError {
    fn from(r: Refusal) -> Self {
        WorkflowError::Refused(r)
    }
}

impl From<StoreError> for WorkflowError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Stale { .. } => WorkflowError::Stale(format!(
                "{e}. Ingenting er lagret: last saken på nytt, se hva som er endret, og prøv igjen."
            )),
            StoreError::NotFound(_) => WorkflowError::NotFound,
            other => WorkflowError::Store(other),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> WorkflowError {
    WorkflowError::Refused(Refusal::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }]))
}

/// The actor of a signed-in user in `role`.
pub fn actor(user: &User, role: Role) -> Actor {
    Actor {
        subject: user.subject.clone(),
        name: user.name.clone().unwrap_or_else(|| user.subject.clone()),
        role,
        trust: user.trust.clone(),
    }
}

/// The case's form as stored.
pub fn fields_of(record: &CaseRecord) -> Fields {
    serde_json::from_str(&record.data.fields).unwrap_or_default()
}

/// What the engine filled in, as stored.
pub fn derived_of(record: &CaseRecord) -> Value {
    record
        .data
        .derived
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null)
}

/// The state machine's view of an off-label case.
pub fn head(record: &CaseRecord) -> CaseHead {
    let derived = derived_of(record);
    let strings = |key: &str| -> Vec<String> {
        derived[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    CaseHead {
        state: State::from_code(&record.data.state).unwrap_or(State::Draft),
        author: record.data.author.clone(),
        treating_trust: record.data.trust.clone().unwrap_or_default(),
        home_trust: record.data.home_trust.clone(),
        evaluation_dates: strings("evaluation_dates")
            .iter()
            .filter_map(|d| Date::parse(d).ok())
            .collect(),
        stop_rules: strings("stop_rules"),
        evaluations_done: usize::try_from(record.data.evaluations).unwrap_or(0),
    }
}

/// Whether `actor` may see `record`: the applicant; in the trusts, staff of the treating trust
/// or the patient's; for Helfo cases, Helfo's caseworkers; administrators and analysts (for
/// the overviews) see all. A draft is the applicant's own until it is sent: nobody else sees
/// it, whatever their role.
pub fn may_see(actor: &Actor, record: &CaseRecord) -> bool {
    if record.data.state == "draft" {
        return record.data.author == actor.subject;
    }
    if record.data.author == actor.subject
        || matches!(actor.role, Role::Administrator | Role::Analyst)
    {
        return true;
    }
    match record.data.kind.as_str() {
        "off_label" => {
            let trust = actor.trust.as_deref();
            matches!(
                actor.role,
                Role::Prescriber | Role::ClinicHead | Role::MedicalDirector
            ) && trust.is_some()
                && (record.data.trust.as_deref() == trust
                    || record.data.home_trust.as_deref() == trust)
        }
        // G1: DMP decides the applications and receives the notifications.
        "exemption" => actor.role == Role::DmpCaseworker,
        _ => actor.role == Role::HelfoCaseworker,
    }
}

/// A case `actor` may see, with its history.
pub async fn load(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(CaseRecord, Vec<CaseEvent>), WorkflowError> {
    let record = state.store.case(id).await?.ok_or(WorkflowError::NotFound)?;
    if !may_see(actor, &record) {
        return Err(WorkflowError::NotFound);
    }
    let events = state.store.case_events(id).await?;
    Ok((record, events))
}

pub(crate) fn event(
    actor: &Actor,
    action: &str,
    from: Option<&str>,
    to: &str,
    record: String,
) -> CaseEvent {
    CaseEvent {
        version: 0,
        at: now_rfc3339(),
        actor: actor.subject.clone(),
        actor_name: actor.name.clone(),
        role: actor.role.code().into(),
        action: action.into(),
        from_state: from.map(str::to_string),
        to_state: to.into(),
        record,
    }
}

/// A stored case change: where the case is now and the audit record that holds the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Saved {
    /// The case.
    pub id: i64,
    /// Its version after the change.
    pub version: i64,
    /// The change's audit record (`X-Audit-Seq`).
    pub audit_seq: i64,
}

/// The audit record of a case change, stored in the change's own transaction. No patient
/// identifiers: the case id, the move, the states and the recorded line.
fn audit_record(state: &AppState, kind: &str, id: i64, version: i64, e: &CaseEvent) -> NewRecord {
    audit_record_with(state.rules.version(), kind, e)(id, version)
}

/// [`audit_record`] for a case whose id is not known yet (it is given by the insert).
fn audit_record_with(
    rule_set: String,
    kind: &str,
    e: &CaseEvent,
) -> impl FnOnce(i64, i64) -> NewRecord + Send + 'static {
    let (kind, e) = (kind.to_string(), e.clone());
    move |id, version| NewRecord {
        at: e.at.clone(),
        actor: e.actor.clone(),
        role: e.role.clone(),
        action: format!("case:{kind}:{}", e.action),
        rule_set,
        request: json!({
            "case": id,
            "from_version": version - 1,
            "action": e.action,
            "from_state": e.from_state,
        })
        .to_string(),
        response: json!({ "version": version, "state": e.to_state, "record": e.record })
            .to_string(),
    }
}

/// Stores a new case with its first event and audit record.
pub(crate) async fn create(
    state: &AppState,
    kind: &str,
    data: &CaseData,
    e: &CaseEvent,
) -> Result<Saved, WorkflowError> {
    let make = audit_record_with(state.rules.version(), kind, e);
    let (id, receipt) = state
        .store
        .create_case(data, e, move |id| make(id, 1))
        .await?;
    Ok(Saved {
        id,
        version: 1,
        audit_seq: receipt.seq,
    })
}

/// Stores a change of a case from `version`, with its event and audit record.
pub(crate) async fn update(
    state: &AppState,
    kind: &str,
    id: i64,
    version: i64,
    data: &CaseData,
    e: &CaseEvent,
) -> Result<Saved, WorkflowError> {
    let record = audit_record(state, kind, id, version + 1, e);
    let (version, receipt) = state
        .store
        .update_case(id, version, data, e, record)
        .await?;
    Ok(Saved {
        id,
        version,
        audit_seq: receipt.seq,
    })
}

fn off_label_data(
    actor: &Actor,
    fields: &Fields,
    state: State,
    created: String,
    prior: Option<&CaseData>,
) -> CaseData {
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    CaseData {
        kind: "off_label".into(),
        state: state.code().into(),
        author: prior.map_or_else(|| actor.subject.clone(), |p| p.author.clone()),
        author_name: prior.map_or_else(|| actor.name.clone(), |p| p.author_name.clone()),
        trust: prior.map_or_else(|| actor.trust.clone(), |p| p.trust.clone()),
        home_trust: get("home_trust"),
        clinic: get("clinic"),
        atc: get("atc")
            .map(|a| a.to_ascii_uppercase())
            .unwrap_or_default(),
        substance: get("substance").unwrap_or_default(),
        patient_key: get("patient_ref"),
        use_kind: get("use_kind"),
        scope: get("scope"),
        patients: 1,
        cost_ore: 0,
        fields: serde_json::to_string(fields).unwrap_or_else(|_| "{}".into()),
        derived: None,
        valid_from: None,
        valid_until: None,
        omeq: None,
        evaluations: 0,
        created,
        approved: None,
    }
}

/// Saves an off-label application: new or an existing draft / returned one, as a draft or
/// submitted. Submitting checks the whole form (O3) and runs the decision engine (O1).
pub async fn off_label_save(
    state: &AppState,
    actor: &Actor,
    existing: Option<(i64, i64)>,
    fields: Fields,
    submit: bool,
    today: Date,
) -> Result<Saved, WorkflowError> {
    if actor.role != Role::Prescriber {
        return Err(Refusal::Forbidden("bare leger (forskrivere) kan søke".into()).into());
    }
    if actor.trust.is_none() {
        return Err(Refusal::Forbidden(
            "brukeren er ikke knyttet til et helseforetak (claim «trust» mangler)".into(),
        )
        .into());
    }
    let prior = match existing {
        Some((id, _)) => Some(state.store.case(id).await?.ok_or(WorkflowError::NotFound)?),
        None => None,
    };
    let current = prior.as_ref().map(head);
    if let Some(h) = &current {
        if h.author != actor.subject {
            return Err(
                Refusal::Forbidden("bare legen som skrev søknaden kan endre den".into()).into(),
            );
        }
        if !matches!(h.state, State::Draft | State::Returned) {
            return Err(Refusal::Conflict(format!(
                "saken er «{}» og kan ikke endres nå",
                h.state.describe()
            ))
            .into());
        }
    }
    let created = prior
        .as_ref()
        .map_or_else(now_rfc3339, |p| p.data.created.clone());
    let from_state = current.as_ref().map(|h| h.state);
    let mut data = off_label_data(
        actor,
        &fields,
        State::Draft,
        created,
        prior.as_ref().map(|p| &p.data),
    );
    let e = if submit {
        let (form, derived) = off_label::submit(&fields, actor, today, &state.rules)?;
        let h = current.clone().unwrap_or(CaseHead {
            state: State::Draft,
            author: actor.subject.clone(),
            treating_trust: actor.trust.clone().unwrap_or_default(),
            home_trust: None,
            evaluation_dates: Vec::new(),
            stop_rules: Vec::new(),
            evaluations_done: 0,
        });
        let outcome = off_label::apply(
            &h,
            &Request {
                movement: Move::Submit,
                reason: String::new(),
                stop_rule: None,
            },
            actor,
            today,
        )?;
        data.state = outcome.to.code().into();
        data.patients = i64::from(form.patients);
        data.cost_ore = i64::try_from(form.cost_estimate.0).unwrap_or(i64::MAX);
        data.atc = form.atc.to_string();
        data.derived = Some(derived_json(&form, &derived).to_string());
        event(
            actor,
            Move::Submit.code(),
            from_state.map(State::code),
            outcome.to.code(),
            outcome.record,
        )
    } else {
        data.state = from_state.unwrap_or(State::Draft).code().into();
        if data.atc.is_empty() {
            return Err(invalid("atc", "et utkast trenger minst ATC-koden"));
        }
        event(
            actor,
            "save",
            from_state.map(State::code),
            data.state.as_str(),
            "Utkast lagret.".into(),
        )
    };
    match existing {
        Some((id, version)) => update(state, "off_label", id, version, &data, &e).await,
        None => create(state, "off_label", &data, &e).await,
    }
}

fn derived_json(form: &off_label::OffLabelForm, d: &off_label::Derived) -> Value {
    json!({
        "scheme": d.scheme.code(),
        "payer": d.payer.code(),
        "prescription": d.prescription.code(),
        "actions": d.actions.iter().map(|a| a.code()).collect::<Vec<_>>(),
        "godkjenningsfritak": d.godkjenningsfritak,
        "second_trust": d.second_trust,
        "paying_trust": d.paying_trust,
        "paying_rhf": d.paying_rhf,
        "invoice_address": d.invoice_address,
        "nye_metoder": d.nye_metoder.code(),
        "rule_set": d.rule_set,
        "citations": d.citations,
        "explanation": d.explanation.iter().map(|(rule, applied, text)| json!({
            "rule": rule, "applied": applied, "text": text
        })).collect::<Vec<_>>(),
        "evaluation_dates": form.plan.evaluation_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "stop_rules": form.plan.stop_rules,
    })
}

/// Refuses a change made from a version the case no longer has (someone moved it meanwhile).
pub(crate) fn ensure_version(record: &CaseRecord, version: i64) -> Result<(), WorkflowError> {
    if record.version == version {
        return Ok(());
    }
    Err(StoreError::Stale {
        id: record.id,
        expected: version,
        current: record.version,
    }
    .into())
}

/// Makes a move on an off-label case from the version the caller saw; the case's new version.
pub async fn off_label_move(
    state: &AppState,
    actor: &Actor,
    id: i64,
    version: i64,
    request: &Request,
    today: Date,
) -> Result<Saved, WorkflowError> {
    let (record, _) = load(state, actor, id).await?;
    if record.data.kind != "off_label" {
        return Err(WorkflowError::NotFound);
    }
    if request.movement == Move::Submit {
        return Err(invalid(
            "move",
            "send inn med skjemaet (det kontrolleres på nytt)",
        ));
    }
    ensure_version(&record, version)?;
    let h = head(&record);
    let outcome = off_label::apply(&h, request, actor, today)?;
    let mut data = record.data.clone();
    data.state = outcome.to.code().into();
    if outcome.evaluation {
        data.evaluations += 1;
    }
    if outcome.to == State::Approved && h.state != State::Approved {
        data.approved = Some(today.to_string());
    }
    let e = event(
        actor,
        request.movement.code(),
        Some(h.state.code()),
        outcome.to.code(),
        outcome.record,
    );
    update(state, "off_label", id, version, &data, &e).await
}

/// What a § 3 submission led to.
pub enum HelfoSubmitted {
    /// No application is needed (nothing stored).
    NotNeeded(Assessment),
    /// Stored, with the assessment.
    Stored(Saved, Assessment),
}

/// The prescriber's role in decisions, from the token (`prescriber_role` claim).
pub fn prescriber_role(user: &User) -> Result<PrescriberRole, WorkflowError> {
    user.prescriber_role
        .as_deref()
        .and_then(PrescriberRole::from_code)
        .ok_or_else(|| {
            Refusal::Forbidden(
                "tokenet mangler forskriverrolle (prescriber_role: gp, specialist, hospital_doctor eller pain_clinic)"
                    .into(),
            )
            .into()
        })
}

/// Sends a § 3 application: checked, decided automatically where the rules decide (B3), and
/// stored with its outcome; the patient's earlier decisions and pending applications for the
/// same substance stop it (look-up first, B3).
pub async fn helfo_submit(
    state: &AppState,
    actor: &Actor,
    prescriber: PrescriberRole,
    fields: Fields,
    today: Date,
) -> Result<HelfoSubmitted, WorkflowError> {
    if actor.role != Role::Prescriber {
        return Err(Refusal::Forbidden("bare leger (forskrivere) kan søke Helfo".into()).into());
    }
    let form = helfo::validate(&fields).map_err(Refusal::Invalid)?;
    let assessment = helfo::assess(&form, prescriber, today, &state.rules)
        .map_err(|e| Refusal::Invalid(vec![e]))?;
    if matches!(assessment, Assessment::NotNeeded { .. }) {
        return Ok(HelfoSubmitted::NotNeeded(assessment));
    }
    let patient_key = patient_key(&form);
    let open = existing(state, &patient_key, form.atc, today).await?;
    // B5: an opioid decision is for a daily dose; applying for a higher dose than every decision
    // in force is a new application, not a second one.
    let wanted = form.opioid.omeq.map(|o| o.get());
    let blocking = open.iter().find(|c| {
        let raise = c.data.state == helfo::State::Granted.code()
            && wanted.is_some_and(|w| c.data.omeq.is_some_and(|d| w > d));
        !raise
    });
    if let Some(c) = blocking {
        return Err(invalid(
            "atc",
            format!(
                "pasienten har allerede sak {} for {} ({}): se den før du søker på nytt",
                c.id,
                c.data.atc,
                helfo::State::from_code(&c.data.state).map_or("ukjent", |s| s.describe())
            ),
        ));
    }
    let to = assessment.state().unwrap_or(helfo::State::Manual);
    let (valid_from, valid_until) = match &assessment {
        Assessment::Granted {
            valid_from,
            valid_until,
            ..
        } => (
            Some(valid_from.to_string()),
            valid_until.map(|d| d.to_string()),
        ),
        _ => (None, None),
    };
    let rule = match &assessment {
        Assessment::Refused { rule, .. } | Assessment::NotNeeded { rule, .. } => rule.code(),
        _ => "B3",
    };
    let data = CaseData {
        kind: "helfo".into(),
        state: to.code().into(),
        author: actor.subject.clone(),
        author_name: actor.name.clone(),
        trust: actor.trust.clone(),
        atc: form.atc.to_string(),
        substance: form.substance.clone(),
        patient_key: Some(patient_key),
        patients: 1,
        fields: serde_json::to_string(&fields).unwrap_or_else(|_| "{}".into()),
        derived: Some(
            json!({
                "outcome": to.code(),
                "reason": assessment.reason(),
                "rule": rule,
                "automatic": !to.is_pending(),
                "prescriber_role": prescriber.code(),
            })
            .to_string(),
        ),
        valid_from,
        valid_until,
        omeq: form.opioid.omeq.map(|o| o.get()),
        created: now_rfc3339(),
        ..CaseData::default()
    };
    let e = event(
        actor,
        "submit",
        None,
        to.code(),
        format!(
            "Sendt inn av {} {today}. {}",
            actor.name,
            assessment.reason()
        ),
    );
    let saved = create(state, "helfo", &data, &e).await?;
    Ok(HelfoSubmitted::Stored(saved, assessment))
}

/// The key a § 3 case is found by: the person number, or name and birth date on paper.
fn patient_key(form: &helfo::HelfoForm) -> String {
    match (&form.patient_id, &form.patient_name, form.birth_date) {
        (Some(id), _, _) => id.as_str().to_string(),
        (None, Some(name), Some(born)) => format!("papir:{}:{born}", name.to_lowercase()),
        _ => "ukjent".into(),
    }
}

/// The patient's decisions in force and pending applications for the same substance — for an
/// opioid, for any opioid of the -71 scope but methadone (B5: [`helfo::same_decision`]).
async fn existing(
    state: &AppState,
    patient_key: &str,
    atc: Atc,
    today: Date,
) -> Result<Vec<CaseRecord>, WorkflowError> {
    let b5 = state.rules.opioids.at(today).map_err(|e| {
        WorkflowError::Refused(Refusal::Invalid(vec![cases::FieldError {
            field: "atc".into(),
            message: e.to_string(),
        }]))
    })?;
    let all = state
        .store
        .cases(&CaseFilter {
            kind: Some("helfo".into()),
            patient_key: Some(patient_key.into()),
            ..CaseFilter::default()
        })
        .await?;
    Ok(all
        .into_iter()
        .filter(|c| {
            Atc::parse(&c.data.atc).is_ok_and(|a| helfo::same_decision(&a, &atc, &b5.value))
        })
        .filter(|c| match helfo::State::from_code(&c.data.state) {
            Some(s) if s.is_pending() => true,
            Some(helfo::State::Granted) => c
                .data
                .valid_until
                .as_deref()
                .and_then(|u| Date::parse(u).ok())
                .is_none_or(|u| today <= u),
            _ => false,
        })
        .collect())
}

/// What the look-up before a § 3 application found.
pub struct Lookup {
    /// Decisions in force and pending applications for the patient and substance.
    pub existing: Vec<CaseRecord>,
    /// Set when the trust pays (the medicine is on the § 1b list): stop here.
    pub h_list: Option<String>,
    /// Set when the one looking up may not apply for this medicine (B4), said before the form
    /// is filled in rather than after.
    pub applicant_warning: Option<String>,
}

/// **B4** at the look-up: who must apply for the medicine, as far as the look-up knows it
/// (substance, brand, prescription group and refund code where given; no opioid facts, so an
/// opioid is judged by B4 alone and B5 is checked on the form). `None` when `prescriber` may.
fn applicant_warning(
    state: &AppState,
    drug: &domain::Drug,
    fields: &Fields,
    prescriber: PrescriberRole,
    today: Date,
) -> Option<String> {
    let refund_code = fields
        .get("refund_code")
        .and_then(|c| domain::RefundCode::parse(c.trim()).ok());
    let request = domain::DecisionRequest {
        date: today,
        drug: drug.clone(),
        usage: domain::Usage {
            on_label: true,
            refund_listed: false,
            refund_code,
            generally_dangerous_infection: false,
            mrsa: false,
            palliative: false,
            established: true,
            helfo_documentation: true,
            nye_metoder: domain::NyeMetoder::None,
        },
        setting: domain::Setting::PatientAdministered,
        started_in: domain::StartedIn::Primary,
        prescriber,
        patient: domain::Patient {
            id: PatientId::Fnr,
            member: true,
            other_hf: false,
            age: None,
        },
        treatment: domain::Treatment {
            months_per_year: domain::MonthsPerYear::FULL_YEAR,
            repeated: false,
        },
        opioid: domain::Opioid {
            omeq: None,
            pain: None,
            kind: domain::OpioidKind::Standard,
        },
    };
    let decision = decide::decide(&request, &state.rules).ok()?;
    decision
        .blockers
        .iter()
        .find(|b| b.code == domain::BlockerCode::PrescriberNotQualified)
        .map(|b| format!("{} (B4)", b.message))
}

/// The look-up first (B3): the patient's decisions and pending applications for the substance,
/// and whether the trust pays (F3).
pub async fn helfo_lookup(
    state: &AppState,
    fields: &Fields,
    today: Date,
    prescriber: Option<PrescriberRole>,
) -> Result<Lookup, WorkflowError> {
    let mut r = cases::fields::Reader::new(fields);
    let kind = r.choice(
        "patient_id_kind",
        PatientId::from_code,
        &["fnr", "dnr", "none"],
    );
    let atc = r.atc("atc");
    let substance = r.text("substance", "virkestoff");
    let key = match kind {
        Some(PatientId::None) | None => None,
        Some(k) => {
            let text = r
                .text("patient_id", "fødselsnummer eller D-nummer (11 sifre)")
                .replace(' ', "");
            match cases::identity::PersonId::parse(&text, k) {
                Ok(id) => Some(id.as_str().to_string()),
                Err(e) => {
                    if !text.is_empty() {
                        r.error("patient_id", e);
                    }
                    None
                }
            }
        }
    };
    if !r.errors.is_empty() {
        return Err(Refusal::Invalid(r.errors).into());
    }
    let Some(atc) = atc else {
        return Err(invalid("atc", "fyll inn ATC-kode"));
    };
    let drug = domain::Drug {
        atc,
        substance,
        brand: fields
            .get("brand")
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty()),
        authorisation: domain::Authorisation::Marketed,
        prescription_group: fields
            .get("prescription_group")
            .and_then(|g| domain::PrescriptionGroup::from_code(g.trim())),
        thc_percent: None,
    };
    let applicant_warning =
        prescriber.and_then(|p| applicant_warning(state, &drug, fields, p, today));
    let h_list = match decide::h_list::f4_match(&drug, &state.rules.h_list, today) {
        decide::h_list::ListMatch::Listed(entry) => Some(format!(
            "{} ({}) står på H-reseptlisten for «{}» fra {}: det regionale helseforetaket betaler (F3). \
             Søk ikke Helfo; skriv H-resept.",
            entry.substance, entry.atc, entry.usage, entry.period.from
        )),
        _ => None,
    };
    let existing = match key {
        Some(k) => existing(state, &k, atc, today).await?,
        None => Vec::new(),
    };
    Ok(Lookup {
        existing,
        h_list,
        applicant_warning,
    })
}

/// A caseworker's ruling on a case in the queue, from the version they saw.
pub async fn helfo_rule(
    state: &AppState,
    actor: &Actor,
    id: i64,
    version: i64,
    ruling: &Ruling,
    reason: &str,
    today: Date,
) -> Result<(CaseRecord, Saved), WorkflowError> {
    if actor.role != Role::HelfoCaseworker {
        return Err(Refusal::Forbidden(
            "bare en saksbehandler i Helfo kan avgjøre søknader".into(),
        )
        .into());
    }
    let (record, _) = load(state, actor, id).await?;
    if record.data.kind != "helfo" {
        return Err(WorkflowError::NotFound);
    }
    ensure_version(&record, version)?;
    let from = helfo::State::from_code(&record.data.state).unwrap_or(helfo::State::Manual);
    // B3: the time limit of this application, as the automatic grant would have set it.
    let limit = helfo::validate(&fields_of(&record))
        .ok()
        .and_then(|form| helfo::valid_until(&form, today, &state.rules).ok())
        .and_then(|(until, why)| until.map(|u| (u, why)));
    let handling = state
        .rules
        .case_handling
        .at(today)
        .map_err(|e| Refusal::Conflict(e.to_string()))?;
    let (to, line, last) = helfo::rule_on(
        from,
        ruling,
        reason,
        actor,
        today,
        limit.as_ref().map(|(u, why)| (*u, why.as_str())),
        &handling.value,
    )?;
    let mut data = record.data.clone();
    data.state = to.code().into();
    let mut derived = derived_of(&record);
    match ruling {
        Ruling::Grant { .. } => {
            data.valid_from = Some(today.to_string());
            data.valid_until = last.map(|d| d.to_string());
        }
        Ruling::AskForInformation { .. } => {
            derived["information_deadline"] = json!(last.map(|d| d.to_string()));
            derived["question"] = json!(reason.trim());
        }
        Ruling::Refuse => {}
    }
    derived["outcome"] = json!(to.code());
    derived["reason"] = json!(line);
    derived["automatic"] = json!(false);
    data.derived = Some(derived.to_string());
    let e = event(actor, "ruling", Some(from.code()), to.code(), line);
    let saved = update(state, "helfo", id, version, &data, &e).await?;
    let record = state.store.case(id).await?.ok_or(WorkflowError::NotFound)?;
    Ok((record, saved))
}

/// The applicant's answer to a caseworker's request for more information: recorded, and the
/// case back in the queue.
pub async fn helfo_answer(
    state: &AppState,
    actor: &Actor,
    id: i64,
    version: i64,
    text: &str,
    today: Date,
) -> Result<(CaseRecord, Saved), WorkflowError> {
    let (record, _) = load(state, actor, id).await?;
    if record.data.kind != "helfo" {
        return Err(WorkflowError::NotFound);
    }
    ensure_version(&record, version)?;
    let from = helfo::State::from_code(&record.data.state).unwrap_or(helfo::State::Manual);
    let (to, line) = helfo::answer(from, text, actor, &record.data.author, today)?;
    let mut data = record.data.clone();
    data.state = to.code().into();
    let mut derived = derived_of(&record);
    derived["outcome"] = json!(to.code());
    derived["reason"] = json!(line);
    derived["information_answered"] = json!(today.to_string());
    data.derived = Some(derived.to_string());
    let e = event(actor, "answer", Some(from.code()), to.code(), line);
    let saved = update(state, "helfo", id, version, &data, &e).await?;
    let record = state.store.case(id).await?.ok_or(WorkflowError::NotFound)?;
    Ok((record, saved))
}

/// The decision a blue prescription is dispensed against (B5): the patient's grants for the
/// substance, the one with the highest daily dose.
pub async fn helfo_coverage(
    state: &AppState,
    patient_id: &str,
    atc: Atc,
    date: Date,
    omeq: Option<f64>,
    route: Option<ruleset::Route>,
) -> Result<Result<helfo::Grant, String>, WorkflowError> {
    let (Ok(opioids), Ok(table)) = (state.rules.opioids.at(date), state.rules.omeq.at(date)) else {
        return Ok(Err(format!(
            "ingen regeldata for opioider (B5, OMEQ) i kraft {date}"
        )));
    };
    let granted = state
        .store
        .cases(&CaseFilter {
            kind: Some("helfo".into()),
            states: vec!["granted".into()],
            patient_key: Some(patient_id.into()),
            ..CaseFilter::default()
        })
        .await?;
    let grants: Vec<helfo::Grant> = granted
        .iter()
        .filter_map(|c| {
            Some(helfo::Grant {
                case_id: c.id,
                atc: Atc::parse(&c.data.atc).ok()?,
                valid_from: Date::parse(c.data.valid_from.as_deref()?).ok()?,
                valid_until: c
                    .data
                    .valid_until
                    .as_deref()
                    .and_then(|u| Date::parse(u).ok()),
                omeq: c.data.omeq,
            })
        })
        .collect();
    let dispensed = helfo::Dispensed {
        atc,
        omeq,
        route,
        opioids: &opioids.value,
        excluded_routes: &table.value.excluded_routes,
    };
    Ok(helfo::covering(&grants, &dispensed, date).cloned())
}

/// Every case, as the overviews read them.
pub async fn overview_rows(
    state: &AppState,
) -> Result<Vec<cases::overview::CaseRow>, WorkflowError> {
    let all = state.store.cases(&CaseFilter::default()).await?;
    Ok(all
        .iter()
        .map(|c| {
            let state_text = if c.data.kind == "helfo" {
                helfo::State::from_code(&c.data.state).map_or("?", |s| s.describe())
            } else {
                State::from_code(&c.data.state).map_or("?", |s| s.describe())
            };
            cases::overview::CaseRow {
                kind: c.data.kind.clone(),
                state: c.data.state.clone(),
                state_text: state_text.into(),
                trust: c.data.trust.clone(),
                clinic: c.data.clinic.clone(),
                use_kind: c.data.use_kind.clone(),
                scope: c.data.scope.clone(),
                patients: u32::try_from(c.data.patients).unwrap_or(1),
                cost: domain::Ore(u64::try_from(c.data.cost_ore).unwrap_or(0)),
                created: c
                    .data
                    .created
                    .get(..10)
                    .and_then(|d| Date::parse(d).ok())
                    .unwrap_or_else(crate::today),
                approved: c.data.approved.as_deref().and_then(|d| Date::parse(d).ok()),
            }
        })
        .collect())
}
