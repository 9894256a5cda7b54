//! The web pages (bokmål), served by `legemiddel serve`: server-rendered HTML that works
//! without JavaScript (a small script only shows the browser's checks next to each field as you
//! type). Sign-in is the same tokens and roles as the API, carried in an HttpOnly, SameSite=Strict
//! cookie; the embedded default has a local sign-in with the users of `local-users.toml`.
//!
//! Every page calls the same workflow functions as the API ([`crate::workflow`]), so what a
//! person can do in the browser is exactly what the API allows them.

mod exemptions;
pub mod forms;
mod lists;
mod pharmacy;
mod statistics;
mod stockpiles;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cases::helfo::{self, Assessment};
use cases::off_label::{self, Move, Request};
use cases::{Actor, FieldError, Fields};
use domain::Role;
use forms::{Field, Section};
use serde_json::Value;
use store::{CaseEvent, CaseFilter, CaseRecord};

use crate::auth::Identity;
use crate::cases_api::{self, CaseError};
use crate::extract::{Form, Path, Query};
use crate::workflow::{self, HelfoSubmitted, WorkflowError};
use crate::{AppState, User, now_epoch, today};

/// The session cookie's name.
pub const COOKIE: &str = "legemiddel";

/// The users of the local sign-in.
pub fn local_users() -> Vec<Identity> {
    #[derive(serde::Deserialize)]
    struct File {
        user: Vec<Identity>,
    }
    toml::from_str::<File>(include_str!("../../local-users.toml"))
        .map(|f| f.user)
        .unwrap_or_default()
}

/// The routes of the pages.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/logg-inn", get(login_page).post(login))
        .route("/logg-ut", post(logout))
        .route("/hvem-betaler", get(decide_page).post(decide_submit))
        .route("/regler", get(rules_page))
        .route("/off-label", get(off_label_list))
        .route("/off-label/ny", get(off_label_new).post(off_label_create))
        .route(
            "/off-label/{id}",
            get(off_label_case).post(off_label_update),
        )
        .route("/off-label/{id}/trekk", post(off_label_move))
        .route("/helfo", get(helfo_list))
        .route("/helfo/ny", get(helfo_lookup_page).post(helfo_submit))
        .route("/helfo/oppslag", post(helfo_lookup))
        .route("/helfo/ko", get(helfo_queue))
        .route("/helfo/{id}", get(helfo_case))
        .route("/fritak", get(exemptions::list))
        .route("/fritak/ny", get(exemptions::new).post(exemptions::create))
        .route("/fritak/{id}", get(exemptions::case))
        .route("/fritak/{id}/vedtak", post(exemptions::ruling))
        .route("/statistikk", get(statistics::page))
        .route("/statistikk/last-ned", get(statistics::download))
        .route("/beredskap", get(stockpiles::page))
        .route("/beredskap/dekning", get(stockpiles::download))
        .route("/helfo/{id}/vedtak", post(helfo_ruling))
        .route("/helfo/{id}/svar", post(helfo_answer))
        .route("/helfo/{id}/papirsoknad", get(helfo_paper))
        .route("/oversikter", get(overviews))
        .route("/oversikter/{file}", get(overview_download))
        .route(
            "/apotek/utlevering",
            get(pharmacy::form).post(pharmacy::submit),
        )
        .route("/katalog", get(catalogue_page))
        .route("/katalog/atc", get(atc_page))
        .route("/katalog/{varenr}", get(package_page))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

// ---------------------------------------------------------------------------------------------
// The frame of every page.

/// A menu entry.
pub struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The signed-in user as shown.
pub struct UserView {
    name: String,
    role: String,
    trust: Option<String>,
}

/// What every page has: title, menu, user, a message after a redirect.
pub struct Frame {
    title: String,
    nav: Vec<NavItem>,
    user: Option<UserView>,
    flash: Option<String>,
    /// The session's CSRF token, put in every form.
    csrf: Option<String>,
}

fn frame(
    title: impl Into<String>,
    session: Option<&Session>,
    current: &str,
    flash: Option<&str>,
) -> Frame {
    let nav = session
        .map(|s| {
            let mut items: Vec<(&'static str, &'static str)> = vec![("/", "Start")];
            let role = s.role;
            if matches!(
                role,
                Role::Prescriber
                    | Role::ClinicHead
                    | Role::MedicalDirector
                    | Role::Pharmacist
                    | Role::HelfoCaseworker
                    | Role::Administrator
            ) {
                items.push(("/hvem-betaler", "Hvem betaler?"));
            }
            if matches!(
                role,
                Role::Prescriber
                    | Role::ClinicHead
                    | Role::MedicalDirector
                    | Role::Administrator
                    | Role::Analyst
            ) {
                items.push((
                    "/off-label",
                    if role == Role::Prescriber {
                        "Off-label-søknader"
                    } else {
                        "Innboks off-label"
                    },
                ));
            }
            if role == Role::Prescriber {
                items.push(("/helfo", "Søknader til Helfo"));
            }
            if role == Role::HelfoCaseworker {
                items.push(("/helfo/ko", "Saksbehandlingskø"));
            }
            if role == Role::Pharmacist {
                items.push(("/apotek/utlevering", "Utlevering"));
            }
            if crate::exemptions::READERS.contains(&role) {
                items.push(("/fritak", "Godkjenningsfritak"));
            }
            if crate::stockpiles_api::STOCK_READERS.contains(&role) {
                items.push(("/beredskap", "Beredskapslager"));
            }
            if statistics::ANALYSTS.contains(&role) {
                items.push(("/statistikk", "Statistikk"));
            }
            if cases_api::OVERVIEW_READERS.contains(&role) {
                items.push(("/oversikter", "Oversikter"));
            }
            items.push(("/katalog", "Legemiddelkatalog"));
            items.push(("/regler", "Regler"));
            items
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: href == current,
                })
                .collect()
        })
        .unwrap_or_default();
    Frame {
        title: title.into(),
        nav,
        user: session.map(|s| UserView {
            name: s.actor.name.clone(),
            role: s.role.describe().to_string(),
            trust: s.actor.trust.clone(),
        }),
        flash: flash.and_then(flash_text).map(str::to_string),
        csrf: session.map(|s| s.csrf.clone()),
    }
}

/// The register of trusts in force today (empty if the rule data has none for today, which
/// loading rules out for the shipped data).
fn register(state: &AppState) -> ruleset::TrustRegister {
    state
        .rules
        .trusts
        .at(today())
        .map(|r| r.value.clone())
        .unwrap_or_default()
}

/// The messages shown after a redirect (by code, so no text travels in the URL).
fn flash_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "lagret" => "Utkastet er lagret.",
        "sendt" => "Søknaden er sendt til klinikk-/avdelingsleder.",
        "flyttet" => "Saken er oppdatert og journalført.",
        "vedtak" => "Vedtaket er registrert.",
        "svar" => "Svaret er sendt til Helfo, og søknaden er tilbake i saksbehandlingskøen.",
        "innlogget" => "Du er logget inn.",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    frame: Frame,
    heading: String,
    text: String,
    link: Option<(String, String)>,
}

fn message(status: StatusCode, session: Option<&Session>, heading: &str, text: &str) -> Response {
    render(
        status,
        &MessagePage {
            frame: frame(heading, session, "", None),
            heading: heading.into(),
            text: text.into(),
            link: session
                .is_none()
                .then(|| ("/logg-inn".to_string(), "Logg inn".to_string())),
        },
    )
}

/// A page with a message and no session (errors before the session is known).
pub(crate) fn error_page(status: StatusCode, text: &str) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => "Siden finnes ikke",
        StatusCode::FORBIDDEN => "Avvist",
        s if s.is_server_error() => "Noe gikk galt",
        _ => "Noe er feil i forespørselen",
    };
    message(status, None, heading, text)
}

/// The page for an address no route serves.
pub(crate) async fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Adressen finnes ikke i legemiddel. Gå til startsiden og finn veien derfra.",
    )
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "siden kunne ikke lages");
            (StatusCode::INTERNAL_SERVER_ERROR, "siden kunne ikke lages").into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-in.

/// A signed-in user and the role they act in.
pub struct Session {
    user: User,
    role: Role,
    actor: Actor,
    /// The CSRF token every form of this session carries.
    csrf: String,
}

pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// The session of the cookie's token, unless the token does not verify or its session was
/// ended by signing out (on any instance: the ended sessions are in the store).
async fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie_token(headers)?;
    let user = state.verifiers.iter().find_map(|v| v.verify(token).ok())?;
    match state
        .store
        .session_ended(&crate::security::token_hash(token))
        .await
    {
        Ok(false) => {}
        Ok(true) => return None,
        Err(e) => {
            // Fail closed: a session that cannot be checked is not let in.
            tracing::error!(error = %e, "kunne ikke sjekke om økten er avsluttet");
            return None;
        }
    }
    let role = *user.roles.first()?;
    let actor = workflow::actor(&user, role);
    Some(Session {
        user,
        role,
        actor,
        csrf: crate::security::csrf_for(token),
    })
}

/// The session, if the user has one of `allowed`; otherwise the sign-in page or a refusal.
// The refusal is the page itself, made once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
async fn require(
    state: &AppState,
    headers: &HeaderMap,
    allowed: &[Role],
) -> Result<Session, Response> {
    let Some(s) = session(state, headers).await else {
        return Err(Redirect::to("/logg-inn").into_response());
    };
    if !allowed.contains(&s.role) {
        let names: Vec<&str> = allowed.iter().map(|r| r.describe()).collect();
        return Err(message(
            StatusCode::FORBIDDEN,
            Some(&s),
            "Ikke tilgang",
            &format!(
                "Denne siden er for: {}. Du er logget inn som {}.",
                names.join(", "),
                s.role.describe()
            ),
        ));
    }
    Ok(s)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    users: Vec<(String, String)>,
    enabled: bool,
    error: Option<String>,
}

fn user_label(u: &Identity) -> String {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.describe()).collect();
    let mut label = format!("{} – {}", u.name, roles.join(", "));
    if let Some(t) = &u.trust {
        label.push_str(&format!(", {t}"));
    }
    if let Some(p) = u
        .prescriber_role
        .as_deref()
        .and_then(domain::PrescriberRole::from_code)
    {
        label.push_str(&format!(" ({})", decide::role_name(p)));
    }
    label
}

async fn login_page(State(state): State<Arc<AppState>>) -> Response {
    render(
        StatusCode::OK,
        &LoginPage {
            frame: frame("Logg inn", None, "", None),
            users: local_users()
                .iter()
                .map(|u| (u.subject.clone(), user_label(u)))
                .collect(),
            enabled: state.local_key.is_some(),
            error: None,
        },
    )
}

async fn login(
    State(state): State<Arc<AppState>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let chosen = form
        .iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.as_str());
    let users = local_users();
    let (Some(key), Some(user)) = (
        state.local_key.as_ref(),
        chosen.and_then(|c| users.iter().find(|u| u.subject == c)),
    ) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LoginPage {
                frame: frame("Logg inn", None, "", None),
                users: users
                    .iter()
                    .map(|u| (u.subject.clone(), user_label(u)))
                    .collect(),
                enabled: state.local_key.is_some(),
                error: Some("Velg en bruker.".into()),
            },
        );
    };
    let token = key.sign_identity(user, now_epoch(), 12);
    let cookie = format!(
        "{COOKIE}={token}; {}; Max-Age=43200",
        state.web.cookie_attributes()
    );
    let mut response = Redirect::to("/?melding=innlogget").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Signs out: the session is ended on the server (every instance refuses its token from now
/// on), and the browser is told to forget the cookie.
async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_token(&headers) {
        let expires = state
            .verifiers
            .iter()
            .find_map(|v| v.verify(token).ok())
            .map_or(now_epoch() + crate::auth::DEFAULT_MAX_LIFETIME, |u| {
                u.expires
            });
        if let Err(e) = state
            .store
            .end_session(&crate::security::token_hash(token), expires, now_epoch())
            .await
        {
            tracing::error!(error = %e, "utlogging kunne ikke lagres");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Utloggingen kunne ikke lagres, så økten er fortsatt åpen. Prøv igjen om litt.",
            );
        }
    }
    let mut response = Redirect::to("/logg-inn").into_response();
    let cookie = format!("{COOKIE}=; {}; Max-Age=0", state.web.cookie_attributes());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(serde::Deserialize, Default)]
struct Flash {
    melding: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    role: String,
    tasks: Vec<Task>,
}

/// Something that waits for the signed-in user, on the start page.
struct Task {
    href: String,
    label: String,
    count: usize,
    /// The oldest's age, or what is due — to decide what to open first.
    detail: String,
}

/// "Venter i N dager" for the oldest of `times` (RFC 3339), if any.
fn oldest(times: impl Iterator<Item = String>, today: domain::Date) -> String {
    match times.filter_map(|t| lists::age_days(&t, today)).max() {
        Some(0) => "den eldste kom i dag".into(),
        Some(1) => "den eldste har ventet 1 dag".into(),
        Some(d) => format!("den eldste har ventet {d} dager"),
        None => String::new(),
    }
}

/// What waits for a prescriber: Helfo's questions to answer, off-label applications returned
/// for changes, evaluations that are due (O4), and their own cases.
fn prescriber_tasks(
    off_label: &[CaseRecord],
    helfo: &[CaseRecord],
    today: domain::Date,
) -> Vec<Task> {
    let asked: Vec<&CaseRecord> = helfo
        .iter()
        .filter(|c| c.data.state == helfo::State::MoreInformation.code())
        .collect();
    let first_deadline = asked
        .iter()
        .filter_map(|c| {
            workflow::derived_of(c)["information_deadline"]
                .as_str()
                .map(str::to_string)
        })
        .min();
    let returned: Vec<&CaseRecord> = off_label
        .iter()
        .filter(|c| c.data.state == off_label::State::Returned.code())
        .collect();
    let due: Vec<domain::Date> = off_label
        .iter()
        .map(workflow::head)
        .filter(|h| h.state == off_label::State::Approved)
        .filter_map(|h| h.next_evaluation())
        .filter(|d| *d <= today)
        .collect();
    let mut tasks = Vec::new();
    if !asked.is_empty() {
        tasks.push(Task {
            href: "/helfo?status=more_information".into(),
            label: "Helfo venter på opplysninger fra deg".into(),
            count: asked.len(),
            detail: first_deadline
                .map(|d| format!("første frist {}", lists::norwegian_date(&d)))
                .unwrap_or_default(),
        });
    }
    if !returned.is_empty() {
        tasks.push(Task {
            href: "/off-label?status=returned".into(),
            label: "Off-label-søknader returnert for endringer".into(),
            count: returned.len(),
            detail: oldest(returned.iter().map(|c| c.updated.clone()), today),
        });
    }
    if !due.is_empty() {
        tasks.push(Task {
            href: "/off-label?status=approved".into(),
            label: "Evalueringer som skal gjøres (O4)".into(),
            count: due.len(),
            detail: due
                .iter()
                .min()
                .map(|d| format!("eldste var {}", lists::norwegian_date(&d.to_string())))
                .unwrap_or_default(),
        });
    }
    tasks.push(Task {
        href: "/off-label".into(),
        label: "Dine off-label-søknader".into(),
        count: off_label.len(),
        detail: String::new(),
    });
    tasks.push(Task {
        href: "/helfo".into(),
        label: "Dine søknader til Helfo".into(),
        count: helfo.len(),
        detail: String::new(),
    });
    tasks
}

async fn home(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<Flash>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return Redirect::to("/logg-inn").into_response();
    };
    let today = today();
    // What waits for this user, counted, with the age of the oldest.
    let mut tasks = Vec::new();
    match s.role {
        Role::ClinicHead | Role::MedicalDirector => {
            let waiting = inbox(&state, &s).await.unwrap_or_default();
            tasks.push(Task {
                href: "/off-label".into(),
                label: "Søknader som venter på deg".into(),
                count: waiting.len(),
                detail: oldest(waiting.iter().map(|c| c.updated.clone()), today),
            });
        }
        Role::Prescriber => {
            let mine = |kind: &str| CaseFilter {
                kind: Some(kind.into()),
                author: Some(s.actor.subject.clone()),
                ..CaseFilter::default()
            };
            let off = state
                .store
                .cases(&mine("off_label"))
                .await
                .unwrap_or_default();
            let helfo = state.store.cases(&mine("helfo")).await.unwrap_or_default();
            tasks = prescriber_tasks(&off, &helfo, today);
        }
        Role::HelfoCaseworker => {
            let queue = state
                .store
                .cases(&CaseFilter {
                    kind: Some("helfo".into()),
                    states: vec!["manual".into(), "paper".into()],
                    ..CaseFilter::default()
                })
                .await
                .unwrap_or_default();
            let answered = queue
                .iter()
                .filter(|c| workflow::derived_of(c)["information_answered"].is_string())
                .count();
            let mut detail = oldest(queue.iter().map(|c| c.data.created.clone()), today);
            if answered > 0 {
                detail.push_str(&format!("; {answered} med svar fra søker"));
            }
            tasks.push(Task {
                href: "/helfo/ko".into(),
                label: "Søknader til manuell behandling".into(),
                count: queue.len(),
                detail,
            });
            let asked = state
                .store
                .cases(&CaseFilter {
                    kind: Some("helfo".into()),
                    states: vec!["more_information".into()],
                    ..CaseFilter::default()
                })
                .await
                .unwrap_or_default();
            let overdue = asked
                .iter()
                .filter(|c| {
                    workflow::derived_of(c)["information_deadline"]
                        .as_str()
                        .and_then(|d| domain::Date::parse(d).ok())
                        .is_some_and(|d| d < today)
                })
                .count();
            tasks.push(Task {
                href: "/helfo/ko?status=more_information".into(),
                label: "Venter på opplysninger fra søker".into(),
                count: asked.len(),
                detail: if overdue > 0 {
                    format!("{overdue} over fristen – kan avgjøres")
                } else {
                    String::new()
                },
            });
        }
        Role::DmpCaseworker => {
            let waiting: Vec<CaseRecord> = state
                .store
                .cases(&CaseFilter {
                    kind: Some("exemption".into()),
                    states: vec!["submitted".into()],
                    ..CaseFilter::default()
                })
                .await
                .unwrap_or_default();
            tasks.push(Task {
                href: "/fritak?status=submitted".into(),
                label: "Søknader om godkjenningsfritak som venter på vedtak".into(),
                count: waiting.len(),
                detail: oldest(waiting.iter().map(|c| c.data.created.clone()), today),
            });
        }
        Role::StockpileManager => {
            if let Ok(r) = crate::stockpiles::report(&state.store, &state.rules, today).await {
                let below = r.lines.iter().filter(|l| l.alert()).count();
                tasks.push(Task {
                    href: "/beredskap".into(),
                    label: "Lagre under kravet (E1–E2)".into(),
                    count: below,
                    detail: format!(
                        "{} partier går ut innen {} dager",
                        r.expiring.len(),
                        r.window_days
                    ),
                });
            }
        }
        _ => {}
    }
    render(
        StatusCode::OK,
        &HomePage {
            frame: frame("Start", Some(&s), "/", f.melding.as_deref()),
            role: s.role.describe().into(),
            tasks,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Forms.

fn form_fields(form: Vec<(String, String)>) -> Fields {
    let mut fields = Fields::new();
    for (k, v) in form {
        if k != crate::security::CSRF_FIELD {
            fields.insert(k, v);
        }
    }
    fields
}

/// An error summary entry: the field's id, its label and the message.
pub struct SummaryItem {
    id: String,
    label: String,
    message: String,
}

fn summary(sections: &[Section], errors: &[FieldError]) -> Vec<SummaryItem> {
    errors
        .iter()
        .map(|e| {
            let field = sections
                .iter()
                .flat_map(|s| &s.fields)
                .find(|f| f.name == e.field);
            SummaryItem {
                id: field.map_or_else(|| "hoved".into(), Field::id),
                label: field.map_or_else(|| "Skjemaet".into(), |f| f.label.to_string()),
                message: e.message.clone(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    frame: Frame,
    heading: String,
    intro: String,
    action: String,
    sections: Vec<Section>,
    errors: Vec<SummaryItem>,
    hidden: Vec<(String, String)>,
    buttons: Vec<(String, String)>,
    result: Option<DecisionView>,
}

// ---------------------------------------------------------------------------------------------
// "Who pays?"

/// A decision, in plain words, with links to the rule text.
pub struct DecisionView {
    payer: String,
    prescription: String,
    scheme: String,
    copayment: bool,
    actions: Vec<String>,
    blockers: Vec<String>,
    steps: Vec<(String, bool, String)>,
    citations: Vec<String>,
    rule_set: String,
}

fn decide_defaults(s: &Session) -> Fields {
    let mut f = Fields::new();
    f.insert("date".into(), today().to_string());
    f.insert("drug.authorisation".into(), "marketed".into());
    f.insert("use.on_label".into(), "true".into());
    f.insert("setting".into(), "patient_administered".into());
    f.insert("started_in".into(), "primary".into());
    f.insert("patient.id".into(), "fnr".into());
    f.insert("patient.member".into(), "true".into());
    f.insert("treatment.months_per_year".into(), "12".into());
    f.insert(
        "prescriber.role".into(),
        s.user
            .prescriber_role
            .clone()
            .unwrap_or_else(|| "gp".into()),
    );
    f
}

fn decide_page_with(
    s: &Session,
    fields: &Fields,
    errors: &[FieldError],
    result: Option<DecisionView>,
    status: StatusCode,
) -> Response {
    let mut sections = forms::decide();
    let unplaced = forms::fill(&mut sections, fields, errors);
    let mut all = errors.to_vec();
    all.retain(|e| !unplaced.contains(e));
    all.extend(unplaced);
    render(
        status,
        &FormPage {
            frame: frame("Hvem betaler?", Some(s), "/hvem-betaler", None),
            heading: "Hvem betaler?".into(),
            intro: "Fyll inn situasjonen. Svaret viser hvem som betaler, hvilken resept som skal skrives, hva som må søkes om, \
                    hva som stopper det – og hvorfor, regel for regel."
                .into(),
            // The answer comes first: the page opens at it.
            action: "/hvem-betaler#svar".into(),
            errors: summary(&sections, &all),
            sections,
            hidden: Vec::new(),
            buttons: vec![("decide".into(), "Vis hvem som betaler".into())],
            result,
        },
    )
}

async fn decide_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match require(&state, &headers, crate::DECIDERS).await {
        Ok(s) => decide_page_with(&s, &decide_defaults(&s), &[], None, StatusCode::OK),
        Err(r) => r,
    }
}

/// The form's fields as the contract's JSON: paths become nesting; numbers and booleans are
/// sent as such when they read as such, and otherwise as text, so the contract names the field.
fn decision_json(fields: &Fields) -> Value {
    let mut root = serde_json::Map::new();
    for (path, value) in fields {
        let value = value.trim();
        if value.is_empty() || path == "action" {
            continue;
        }
        let json = match value {
            "ja" | "true" => Value::Bool(true),
            "nei" | "false" => Value::Bool(false),
            v if matches!(
                path.as_str(),
                "patient.age" | "treatment.months_per_year" | "opioid.omeq" | "drug.thc_percent"
            ) =>
            {
                v.replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .and_then(|n| {
                        if path == "patient.age" && n.fract() == 0.0 && n >= 0.0 {
                            Some(Value::from(n as u64))
                        } else {
                            serde_json::Number::from_f64(n).map(Value::Number)
                        }
                    })
                    .unwrap_or_else(|| Value::String(v.into()))
            }
            // The contract speaks ISO dates; people write 24.11.2026.
            v if path == "date" => Value::String(
                cases::fields::parse_norwegian_date(v)
                    .map_or_else(|_| v.to_string(), |d| d.to_string()),
            ),
            v => Value::String(v.into()),
        };
        match path.split_once('.') {
            Some((outer, inner)) => {
                let entry = root
                    .entry(outer.to_string())
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(inner.to_string(), json);
                }
            }
            None => {
                root.insert(path.clone(), json);
            }
        }
    }
    Value::Object(root)
}

async fn decide_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match require(&state, &headers, crate::DECIDERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let fields = form_fields(form);
    let body = decision_json(&fields).to_string();
    // A package named by varenummer is completed from the FEST catalogue in force.
    let (completed, resolution) = match crate::catalogue::complete(&state, body.as_bytes()).await {
        Ok(Some((bytes, r))) => (Some(bytes), Some(r)),
        Ok(None) => (None, None),
        Err(e) => {
            let error = FieldError {
                field: e.field,
                message: e.message,
            };
            return decide_page_with(
                &s,
                &fields,
                &[error],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let request_bytes = completed.as_deref().unwrap_or(body.as_bytes());
    let outcome = contract::parse_decision_request(request_bytes)
        .and_then(|req| decide::decide(&req, &state.rules).map_err(contract::ContractError::from));
    match outcome {
        Err(e) => {
            let error = FieldError {
                field: e.field.clone(),
                message: e.message,
            };
            decide_page_with(
                &s,
                &fields,
                &[error],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok(mut d) => {
            let summary = resolution.map(|r| contract::catalogue::annotate(&mut d, r));
            let mut out = Vec::with_capacity(2048);
            contract::write_decision(&d, &mut out);
            if let Some(summary) = &summary {
                out = contract::catalogue::with_summary(out, summary);
            }
            if let Err(e) = crate::record(
                &state,
                &s.user,
                s.role,
                "decide:web",
                d.rule_set,
                body.as_bytes(),
                &out,
            )
            .await
            {
                return message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some(&s),
                    "Kunne ikke journalføre",
                    &e.message,
                );
            }
            let view = DecisionView {
                payer: d.payer.describe().into(),
                prescription: d.prescription.describe().into(),
                scheme: d.scheme.describe().into(),
                copayment: d.copayment,
                actions: d
                    .actions
                    .iter()
                    .map(|a| match a.applicant {
                        Some(who) => format!("{} – søker: {}", a.kind.describe(), who.describe()),
                        None => a.kind.describe().to_string(),
                    })
                    .collect(),
                blockers: d.blockers.iter().map(|b| b.message.to_string()).collect(),
                steps: d
                    .explanation
                    .iter()
                    .map(|st| (st.rule.code().to_string(), st.applied, st.text.to_string()))
                    .collect(),
                citations: d.citations.iter().map(|c| c.to_string()).collect(),
                rule_set: d.rule_set.to_string(),
            };
            decide_page_with(&s, &fields, &[], Some(view), StatusCode::OK)
        }
    }
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    frame: Frame,
    date: String,
    rules: Vec<RuleView>,
}

/// One rule in force, as shown.
pub struct RuleView {
    id: String,
    /// The anchor the explanations link to (on the first block of each rule id only).
    anchor: Option<String>,
    title: String,
    basis: String,
    source: String,
    note: Option<String>,
    lines: Vec<(String, String)>,
}

async fn rules_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let s = match require(&state, &headers, Role::ALL).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let date = today();
    let mut anchored = std::collections::HashSet::new();
    let rules = state
        .rules
        .in_force(date)
        .into_iter()
        .map(|r| RuleView {
            anchor: anchored
                .insert(r.source.rule.code())
                .then(|| r.source.rule.code().to_string()),
            id: r.source.rule.code().into(),
            title: r.source.title.clone(),
            basis: r.source.basis.clone(),
            source: r.source.source.clone(),
            note: r.source.note.clone(),
            lines: r.lines,
        })
        .collect();
    render(
        StatusCode::OK,
        &RulesPage {
            frame: frame("Regler", Some(&s), "/regler", None),
            date: date.to_string(),
            rules,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Off-label applications.

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    frame: Frame,
    heading: String,
    intro: String,
    new_link: Option<(String, String)>,
    columns: Vec<String>,
    list: lists::Listing,
    empty: String,
}

/// Cases waiting for a clinic head or medical director.
async fn inbox(state: &AppState, s: &Session) -> Result<Vec<CaseRecord>, WorkflowError> {
    let all = state
        .store
        .cases(&CaseFilter {
            kind: Some("off_label".into()),
            states: vec![
                "submitted".into(),
                "recommended".into(),
                "awaiting_home_trust".into(),
            ],
            trust_or_home: s.actor.trust.clone(),
            ..CaseFilter::default()
        })
        .await?;
    Ok(all
        .into_iter()
        .filter(|c| !workflow::head(c).moves_for(&s.actor).is_empty())
        .collect())
}

fn off_label_row(c: &CaseRecord) -> lists::Row {
    let state = off_label::State::from_code(&c.data.state).map_or("?", |s| s.describe());
    let patient = match c.data.scope.as_deref() {
        Some("group") => format!("gruppe ({} pasienter)", c.data.patients),
        _ => lists::patient_reference(c.data.patient_key.as_deref()),
    };
    lists::Row {
        href: format!("/off-label/{}", c.id),
        cells: vec![
            format!("OL-{}", c.id),
            patient,
            format!("{} ({})", c.data.substance, c.data.atc),
            c.data.clinic.clone().unwrap_or_default(),
            c.data.author_name.clone(),
            state.into(),
            lists::norwegian_date(&c.updated),
        ],
        state: c.data.state.clone(),
        keys: c.data.patient_key.clone().unwrap_or_default(),
    }
}

fn describe_off_label(code: &str) -> String {
    off_label::State::from_code(code).map_or(code.to_string(), |s| s.describe().to_string())
}

fn describe_helfo(code: &str) -> String {
    helfo::State::from_code(code).map_or(code.to_string(), |s| s.describe().to_string())
}

async fn off_label_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<lists::ListQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::OFF_LABEL_STAFF).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (heading, intro, cases) = if s.role == Role::Prescriber {
        let mine = state
            .store
            .cases(&CaseFilter {
                kind: Some("off_label".into()),
                author: Some(s.actor.subject.clone()),
                ..CaseFilter::default()
            })
            .await;
        (
            "Dine off-label-søknader",
            "Søknader om behandling utenfor godkjent indikasjon som helseforetaket finansierer (O1–O5).",
            mine,
        )
    } else if matches!(s.role, Role::ClinicHead | Role::MedicalDirector) {
        (
            "Innboks",
            "Søknader som venter på din vurdering, eldste først.",
            inbox(&state, &s).await.map_err(|e| match e {
                WorkflowError::Store(e) => e,
                _ => store::StoreError::NotFound(0),
            }),
        )
    } else {
        (
            "Alle off-label-søknader",
            "Alle søknader, for oversikt.",
            state
                .store
                .cases(&CaseFilter {
                    kind: Some("off_label".into()),
                    ..CaseFilter::default()
                })
                .await,
        )
    };
    let cases = match cases {
        Ok(c) => c,
        Err(e) => {
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&s),
                "Databasen svarer ikke",
                &e.to_string(),
            );
        }
    };
    render(
        StatusCode::OK,
        &ListPage {
            frame: frame(heading, Some(&s), "/off-label", f.melding.as_deref()),
            heading: heading.into(),
            intro: intro.into(),
            new_link: (s.role == Role::Prescriber)
                .then(|| ("/off-label/ny".into(), "Ny søknad".into())),
            columns: [
                "Sak",
                "Pasient",
                "Legemiddel",
                "Klinikk",
                "Søker",
                "Status",
                "Endret",
            ]
            .map(String::from)
            .to_vec(),
            list: lists::listing(
                "/off-label",
                cases.iter().map(off_label_row).collect(),
                &f,
                describe_off_label,
            ),
            empty: "Ingen søknader her nå.".into(),
        },
    )
}

fn off_label_form_page(
    state: &AppState,
    s: &Session,
    action: &str,
    fields: &Fields,
    errors: &[FieldError],
    hidden: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    let mut sections = forms::off_label(&register(state));
    let unplaced = forms::fill(&mut sections, fields, errors);
    let mut all: Vec<FieldError> = errors
        .iter()
        .filter(|e| !unplaced.contains(e))
        .cloned()
        .collect();
    all.extend(unplaced);
    render(
        status,
        &FormPage {
            frame: frame("Off-label-søknad", Some(s), "/off-label", None),
            heading: "Søknad om off-label-behandling".into(),
            intro: format!(
                "Søknad til {} om behandling som helseforetaket finansierer (vedlegg 1). Når du sender inn, kjøres \
                 beslutningsmotoren, og søknaden går til klinikk-/avdelingsleder og så fagdirektør (O2).",
                s.actor.trust.as_deref().unwrap_or("helseforetaket")
            ),
            action: action.into(),
            errors: summary(&sections, &all),
            sections,
            hidden,
            buttons: vec![
                ("draft".into(), "Lagre utkast".into()),
                ("submit".into(), "Send inn".into()),
            ],
            result: None,
        },
    )
}

async fn off_label_new(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match require(&state, &headers, cases_api::APPLICANTS).await {
        Ok(s) => {
            let mut defaults = Fields::new();
            defaults.insert("scope".into(), "patient".into());
            defaults.insert("nye_metoder".into(), "none".into());
            defaults.insert("setting".into(), "patient_administered".into());
            defaults.insert("use_kind".into(), "off_label".into());
            off_label_form_page(
                &state,
                &s,
                "/off-label/ny",
                &defaults,
                &[],
                Vec::new(),
                StatusCode::OK,
            )
        }
        Err(r) => r,
    }
}

/// Records a read of health data before the page shows it (see [`crate::audit_read`]); a read
/// that cannot be recorded is not shown.
async fn audit_page_read(
    state: &AppState,
    s: &Session,
    endpoint: &str,
    subject: Value,
) -> Result<(), Response> {
    crate::audit_read(state, &s.user, s.role, endpoint, subject)
        .await
        .map(drop)
        .map_err(|e| {
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(s),
                "Kan ikke vises nå",
                &format!("{}.", e.message),
            )
        })
}

fn refusal_page(s: &Session, e: &WorkflowError) -> Response {
    let (status, errors) = cases_api::status_and_errors(e);
    let heading = match status {
        StatusCode::FORBIDDEN => "Ikke tillatt",
        StatusCode::NOT_FOUND => "Finnes ikke",
        StatusCode::CONFLICT => "Kan ikke gjøres nå",
        _ => "Noe gikk galt",
    };
    let text: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
    message(status, Some(s), heading, &text.join(" "))
}

async fn off_label_create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match require(&state, &headers, cases_api::APPLICANTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut fields = form_fields(form);
    let submit = fields.remove("action").as_deref() == Some("submit");
    match workflow::off_label_save(&state, &s.actor, None, fields.clone(), submit, today()).await {
        Ok(workflow::Saved { id, .. }) => Redirect::to(&format!(
            "/off-label/{id}?melding={}",
            if submit { "sendt" } else { "lagret" }
        ))
        .into_response(),
        Err(WorkflowError::Refused(cases::Refusal::Invalid(errors))) => off_label_form_page(
            &state,
            &s,
            "/off-label/ny",
            &fields,
            &errors,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => refusal_page(&s, &e),
    }
}

#[derive(Template)]
#[template(path = "off_label_case.html")]
struct OffLabelCasePage {
    frame: Frame,
    id: i64,
    version: i64,
    state: String,
    state_code: String,
    summary: Vec<(String, String)>,
    derived: Option<DerivedView>,
    events: Vec<EventView>,
    moves: Vec<(String, String, bool)>,
    stop_rules: Vec<(usize, String)>,
    next_evaluation: Option<String>,
    error: Option<String>,
    edit_link: bool,
}

/// What the engine filled in, as shown.
pub struct DerivedView {
    payer: String,
    /// The note's trust, its RHF and invoice address (O5).
    paying: Option<String>,
    prescription: String,
    actions: Vec<String>,
    godkjenningsfritak: bool,
    nye_metoder: String,
    steps: Vec<(String, bool, String)>,
    citations: Vec<String>,
}

/// One event, as shown.
pub struct EventView {
    at: String,
    by: String,
    role: String,
    record: String,
}

fn events_view(events: &[CaseEvent]) -> Vec<EventView> {
    events
        .iter()
        .map(|e| EventView {
            at: e.at.replace('T', " ").chars().take(16).collect(),
            by: e.actor_name.clone(),
            role: Role::from_code(&e.role).map_or(e.role.clone(), |r| r.describe().to_string()),
            record: e.record.clone(),
        })
        .collect()
}

fn derived_view(v: &Value) -> Option<DerivedView> {
    let code = |k: &str| v[k].as_str().unwrap_or("").to_string();
    if v.is_null() {
        return None;
    }
    Some(DerivedView {
        paying: v["paying_trust"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(
                |t| match (v["paying_rhf"].as_str(), v["invoice_address"].as_str()) {
                    (Some(rhf), Some(address)) => format!("{t} ({rhf}); faktura til {address}"),
                    _ => t.to_string(),
                },
            ),
        payer: domain::Payer::from_code(&code("payer"))
            .map_or(code("payer"), |p| p.describe().into()),
        prescription: domain::Prescription::from_code(&code("prescription"))
            .map_or(code("prescription"), |p| p.describe().into()),
        actions: v["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|a| {
                domain::ActionKind::from_code(a).map_or(a.to_string(), |k| k.describe().into())
            })
            .collect(),
        godkjenningsfritak: v["godkjenningsfritak"].as_bool().unwrap_or(false),
        nye_metoder: match code("nye_metoder").as_str() {
            "none" => "ikke vurdert i Nye metoder".into(),
            "under_assessment" => {
                "til vurdering: søk om unntak for bruk i vurderingsperioden".into()
            }
            "decided_yes" => "Beslutningsforum har sagt ja".into(),
            "decided_no" => "Beslutningsforum har sagt nei".into(),
            other => other.into(),
        },
        steps: v["explanation"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["rule"].as_str().unwrap_or("").to_string(),
                    s["applied"].as_bool().unwrap_or(false),
                    s["text"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
        citations: v["citations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    })
}

fn labelled(fields: &Fields, sections: &[Section]) -> Vec<(String, String)> {
    sections
        .iter()
        .flat_map(|s| &s.fields)
        .filter_map(|f| {
            let v = fields.get(f.name)?.trim();
            if v.is_empty() {
                return None;
            }
            let shown = if f.is("yesno") {
                if matches!(v, "ja" | "true" | "on") {
                    "ja"
                } else {
                    "nei"
                }
                .to_string()
            } else if f.is("select") {
                f.options
                    .iter()
                    .find(|(c, _)| c == v)
                    .map_or(v.to_string(), |(_, l)| l.clone())
            } else {
                v.to_string()
            };
            Some((f.label.to_string(), shown))
        })
        .collect()
}

async fn show_off_label(
    state: &AppState,
    s: &Session,
    id: i64,
    flash: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (record, events) = match workflow::load(state, &s.actor, id).await {
        Ok(r) if r.0.data.kind == "off_label" => r,
        Ok(_) => return refusal_page(s, &WorkflowError::NotFound),
        Err(e) => return refusal_page(s, &e),
    };
    let subject = serde_json::json!({ "case": id, "patient": record.data.patient_key });
    if let Err(r) = audit_page_read(state, s, &format!("GET /off-label/{id}"), subject).await {
        return r;
    }
    let h = workflow::head(&record);
    let fields = workflow::fields_of(&record);
    let editable = matches!(
        h.state,
        off_label::State::Draft | off_label::State::Returned
    ) && h.author == s.actor.subject;
    let moves = h
        .moves_for(&s.actor)
        .into_iter()
        .filter(|m| *m != Move::Submit)
        .map(|m| {
            (
                m.code().to_string(),
                m.describe().to_string(),
                matches!(
                    m,
                    Move::Reject | Move::Withdraw | Move::EvaluateStop | Move::Return
                ),
            )
        })
        .collect();
    render(
        status,
        &OffLabelCasePage {
            frame: frame(format!("Sak OL-{id}"), Some(s), "/off-label", flash),
            id,
            version: record.version,
            state: h.state.describe().into(),
            state_code: h.state.code().into(),
            summary: labelled(&fields, &forms::off_label(&register(state))),
            derived: derived_view(&workflow::derived_of(&record)),
            events: events_view(&events),
            moves,
            stop_rules: h.stop_rules.iter().cloned().enumerate().collect(),
            next_evaluation: h.next_evaluation().map(|d| d.to_string()),
            error,
            edit_link: editable,
        },
    )
}

#[derive(serde::Deserialize, Default)]
struct CaseQuery {
    melding: Option<String>,
    endre: Option<String>,
}

async fn off_label_case(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Query(q): Query<CaseQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::OFF_LABEL_STAFF).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if q.endre.is_some() {
        return match workflow::load(&state, &s.actor, id).await {
            Ok((record, _)) => off_label_form_page(
                &state,
                &s,
                &format!("/off-label/{id}"),
                &workflow::fields_of(&record),
                &[],
                vec![("version".into(), record.version.to_string())],
                StatusCode::OK,
            ),
            Err(e) => refusal_page(&s, &e),
        };
    }
    show_off_label(&state, &s, id, q.melding.as_deref(), None, StatusCode::OK).await
}

/// A refused change shown on the case page again, above the form (a stale form, a wrong field,
/// a move the state does not allow); other failures get a page of their own.
fn shown_on_case(e: &WorkflowError) -> Option<(StatusCode, String)> {
    match e {
        WorkflowError::Stale(_)
        | WorkflowError::Refused(cases::Refusal::Invalid(_) | cases::Refusal::Conflict(_)) => {
            let (status, errors) = cases_api::status_and_errors(e);
            let text: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            Some((status, text.join(" ")))
        }
        _ => None,
    }
}

/// A change of a case from its page: the signed-in user (in one of `roles`), the form's
/// fields, and the version the form was loaded at — or the page that says why not.
// The refusal is the page itself, made once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
async fn versioned_form(
    state: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
    form: Vec<(String, String)>,
) -> Result<(Session, Fields, i64), Response> {
    let s = require(state, headers, roles).await?;
    let mut fields = form_fields(form);
    let version = take_version(&s, &mut fields)?;
    Ok((s, fields, version))
}

/// The version the form was loaded at (optimistic concurrency), or the page saying it is missing.
// The refusal is the page itself, made once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn take_version(s: &Session, fields: &mut Fields) -> Result<i64, Response> {
    fields
        .remove("version")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            message(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(s),
                "Mangler versjon",
                "Skjemaet mangler versjonsnummeret; last siden på nytt.",
            )
        })
}

async fn off_label_update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (s, mut fields, version) =
        match versioned_form(&state, &headers, cases_api::APPLICANTS, form).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let submit = fields.remove("action").as_deref() == Some("submit");
    let hidden = vec![("version".to_string(), version.to_string())];
    if let Err(e) = workflow::load(&state, &s.actor, id).await {
        return refusal_page(&s, &e);
    }
    match workflow::off_label_save(
        &state,
        &s.actor,
        Some((id, version)),
        fields.clone(),
        submit,
        today(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!(
            "/off-label/{id}?melding={}",
            if submit { "sendt" } else { "lagret" }
        ))
        .into_response(),
        Err(WorkflowError::Refused(cases::Refusal::Invalid(errors))) => off_label_form_page(
            &state,
            &s,
            &format!("/off-label/{id}"),
            &fields,
            &errors,
            hidden,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e @ WorkflowError::Stale(_)) => {
            let (_, errors) = cases_api::status_and_errors(&e);
            show_off_label(
                &state,
                &s,
                id,
                None,
                Some(errors[0].message.clone()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => refusal_page(&s, &e),
    }
}

async fn off_label_move(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (s, fields, version) =
        match versioned_form(&state, &headers, cases_api::OFF_LABEL_ACTORS, form).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(movement) = fields.get("move").and_then(|m| Move::from_code(m)) else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&s),
            "Ukjent handling",
            "Velg en av knappene på saken.",
        );
    };
    let request = Request {
        movement,
        reason: fields.get("reason").cloned().unwrap_or_default(),
        stop_rule: fields.get("stop_rule").and_then(|v| v.parse().ok()),
    };
    match workflow::off_label_move(&state, &s.actor, id, version, &request, today()).await {
        Ok(_) => Redirect::to(&format!("/off-label/{id}?melding=flyttet")).into_response(),
        Err(e) => match shown_on_case(&e) {
            Some((status, text)) => show_off_label(&state, &s, id, None, Some(text), status).await,
            None => refusal_page(&s, &e),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// § 3 applications to Helfo.

fn helfo_row(c: &CaseRecord) -> lists::Row {
    let state = helfo::State::from_code(&c.data.state).map_or("?", |s| s.describe());
    lists::Row {
        href: format!("/helfo/{}", c.id),
        cells: vec![
            format!("H-{}", c.id),
            lists::patient_reference(c.data.patient_key.as_deref()),
            format!("{} ({})", c.data.substance, c.data.atc),
            c.data.author_name.clone(),
            state.into(),
            c.data
                .valid_until
                .as_deref()
                .map(lists::norwegian_date)
                .unwrap_or_default(),
            lists::norwegian_date(&c.data.created),
        ],
        state: c.data.state.clone(),
        keys: c.data.patient_key.clone().unwrap_or_default(),
    }
}

/// A row of the caseworker's queue: how long it has waited and why it was not decided
/// automatically.
fn queue_row(c: &CaseRecord, today: domain::Date) -> lists::Row {
    let mut row = helfo_row(c);
    let waited = lists::age_days(&c.data.created, today).map_or(String::new(), |d| match d {
        0 => "fra i dag".into(),
        1 => "1 dag".into(),
        d => format!("{d} dager"),
    });
    let derived = workflow::derived_of(c);
    let reason = match derived["information_deadline"].as_str() {
        Some(d) if c.data.state == helfo::State::MoreInformation.code() => format!(
            "venter på opplysninger fra søker, frist {}",
            lists::norwegian_date(d)
        ),
        _ => derived["reason"].as_str().unwrap_or_default().to_string(),
    };
    // Sak, Pasient, Legemiddel, Søker, Status, then waited and why (no validity yet).
    row.cells.truncate(5);
    row.cells.push(waited);
    row.cells.push(reason);
    row
}

async fn helfo_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<lists::ListQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::APPLICANTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let cases = state
        .store
        .cases(&CaseFilter {
            kind: Some("helfo".into()),
            author: Some(s.actor.subject.clone()),
            ..CaseFilter::default()
        })
        .await
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &ListPage {
            frame: frame(
                "Søknader til Helfo",
                Some(&s),
                "/helfo",
                f.melding.as_deref(),
            ),
            heading: "Dine søknader om individuell stønad (§ 3)".into(),
            intro: "Helfo avgjør søknaden med en gang der reglene avgjør den; ellers går den til en saksbehandler.".into(),
            new_link: Some(("/helfo/ny".into(), "Ny søknad".into())),
            columns: ["Sak", "Pasient", "Legemiddel", "Søker", "Status", "Gyldig til", "Sendt"].map(String::from).to_vec(),
            list: lists::listing("/helfo", cases.iter().map(helfo_row).collect(), &f, describe_helfo),
            empty: "Ingen søknader ennå.".into(),
        },
    )
}

async fn helfo_queue(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(f): Query<lists::ListQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::CASEWORKERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let cases = state
        .store
        .cases(&CaseFilter {
            kind: Some("helfo".into()),
            states: vec!["manual".into(), "paper".into(), "more_information".into()],
            ..CaseFilter::default()
        })
        .await
        .unwrap_or_default();
    let subject = serde_json::json!({ "cases": cases.iter().map(|c| c.id).collect::<Vec<_>>() });
    if let Err(r) = audit_page_read(&state, &s, "GET /helfo/ko", subject).await {
        return r;
    }
    render(
        StatusCode::OK,
        &ListPage {
            frame: frame(
                "Saksbehandlingskø",
                Some(&s),
                "/helfo/ko",
                f.melding.as_deref(),
            ),
            heading: "Søknader til manuell behandling".into(),
            intro: "Eldste først. Hver sak sier hvorfor den ikke kunne avgjøres automatisk.".into(),
            new_link: None,
            columns: [
                "Sak",
                "Pasient",
                "Legemiddel",
                "Søker",
                "Status",
                "Venter",
                "Hvorfor manuell",
            ]
            .map(String::from)
            .to_vec(),
            list: lists::listing(
                "/helfo/ko",
                cases.iter().map(|c| queue_row(c, today())).collect(),
                &f,
                describe_helfo,
            ),
            empty: "Køen er tom.".into(),
        },
    )
}

/// Whether the medicine is an opioid in the -71 scope (B5), from the rule data in force.
fn is_opioid(state: &AppState, fields: &Fields) -> bool {
    let atc = fields
        .get("atc")
        .and_then(|a| domain::Atc::parse(&a.trim().to_ascii_uppercase()).ok());
    match (atc, state.rules.opioids.at(today())) {
        (Some(atc), Ok(rules)) => atc.is_in_any(&rules.value.scope),
        // Unknown: ask rather than leave the questions out.
        _ => true,
    }
}

fn helfo_form_page(
    state: &AppState,
    s: &Session,
    fields: &Fields,
    errors: &[FieldError],
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let paper = fields.get("patient_id_kind").map(String::as_str) == Some("none");
    let mut sections = forms::helfo_for(is_opioid(state, fields), paper);
    let unplaced = forms::fill(&mut sections, fields, errors);
    let mut all: Vec<FieldError> = errors
        .iter()
        .filter(|e| !unplaced.contains(e))
        .cloned()
        .collect();
    all.extend(unplaced);
    render(
        status,
        &FormPage {
            frame: frame("Søknad til Helfo", Some(s), "/helfo", None),
            heading: "Søknad om individuell stønad (§ 3)".into(),
            intro: notice.unwrap_or_else(|| {
                "Svar på spørsmålene slik de gjelder pasienten. Søknaden avgjøres med en gang der reglene avgjør den.".into()
            }),
            action: "/helfo/ny".into(),
            errors: summary(&sections, &all),
            sections,
            hidden: Vec::new(),
            buttons: vec![("submit".into(), "Send søknaden".into())],
            result: None,
        },
    )
}

fn helfo_lookup_form(
    s: &Session,
    fields: &Fields,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let mut sections = forms::helfo_lookup();
    forms::fill(&mut sections, fields, errors);
    render(
        status,
        &FormPage {
            frame: frame("Søknad til Helfo", Some(s), "/helfo", None),
            heading: "Søknad om individuell stønad (§ 3): oppslag først".into(),
            intro: "Sjekk først om pasienten alt har vedtak eller en søknad under behandling for samme virkestoff, og om \
                    helseforetaket betaler (H-reseptlisten)."
                .into(),
            action: "/helfo/oppslag".into(),
            errors: summary(&sections, errors),
            sections,
            hidden: Vec::new(),
            buttons: vec![("lookup".into(), "Slå opp".into())],
            result: None,
        },
    )
}

async fn helfo_lookup_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match require(&state, &headers, cases_api::APPLICANTS).await {
        Ok(s) => {
            let mut f = Fields::new();
            f.insert("patient_id_kind".into(), "fnr".into());
            helfo_lookup_form(&s, &f, &[], StatusCode::OK)
        }
        Err(r) => r,
    }
}

async fn helfo_lookup(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match require(&state, &headers, cases_api::APPLICANTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut fields = form_fields(form);
    fields.remove("action");
    let subject =
        serde_json::json!({ "patient": fields.get("patient_id"), "atc": fields.get("atc") });
    if let Err(r) = audit_page_read(&state, &s, "POST /helfo/oppslag", subject).await {
        return r;
    }
    let prescriber = s
        .user
        .prescriber_role
        .as_deref()
        .and_then(domain::PrescriberRole::from_code);
    match workflow::helfo_lookup(&state, &fields, today(), prescriber).await {
        Err(WorkflowError::Refused(cases::Refusal::Invalid(errors))) => {
            helfo_lookup_form(&s, &fields, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => refusal_page(&s, &e),
        Ok(found) => {
            if let Some(stop) = found.h_list {
                return message(StatusCode::OK, Some(&s), "Helseforetaket betaler", &stop);
            }
            if let Some(c) = found.existing.first() {
                let state_text =
                    helfo::State::from_code(&c.data.state).map_or("?", |st| st.describe());
                return message(
                    StatusCode::OK,
                    Some(&s),
                    "Pasienten har allerede en sak",
                    &format!(
                        "Sak H-{} for {} er {}{}. Bruk den i stedet for å søke på nytt.",
                        c.id,
                        c.data.atc,
                        state_text,
                        c.data
                            .valid_until
                            .as_deref()
                            .map(|u| format!(", gyldig til og med {u}"))
                            .unwrap_or_default()
                    ),
                );
            }
            let mut prefilled = fields.clone();
            prefilled.insert("member".into(), "ja".into());
            prefilled.insert("authorisation".into(), "marketed".into());
            prefilled.insert("on_label".into(), "ja".into());
            helfo_form_page(
                &state,
                &s,
                &prefilled,
                &[],
                Some(match &found.applicant_warning {
                    Some(w) => format!(
                        "Ingen vedtak eller søknad for dette virkestoffet, og det står ikke på H-reseptlisten. \
                         Merk før du fyller ut: {w}"
                    ),
                    None => "Ingen vedtak eller søknad for dette virkestoffet, og det står ikke på H-reseptlisten. Fyll ut søknaden.".into(),
                }),
                StatusCode::OK,
            )
        }
    }
}

async fn helfo_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match require(&state, &headers, cases_api::APPLICANTS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut fields = form_fields(form);
    fields.remove("action");
    let prescriber = match workflow::prescriber_role(&s.user) {
        Ok(p) => p,
        Err(e) => return refusal_page(&s, &e),
    };
    match workflow::helfo_submit(&state, &s.actor, prescriber, fields.clone(), today()).await {
        Ok(HelfoSubmitted::Stored(workflow::Saved { id, .. }, _)) => {
            Redirect::to(&format!("/helfo/{id}")).into_response()
        }
        Ok(HelfoSubmitted::NotNeeded(a)) => {
            let heading = match &a {
                Assessment::NotNeeded { rule, .. } if *rule == domain::RuleId::F3 => {
                    "Helseforetaket betaler"
                }
                _ => "Ingen søknad trengs",
            };
            message(StatusCode::OK, Some(&s), heading, &a.reason())
        }
        Err(WorkflowError::Refused(cases::Refusal::Invalid(errors))) => helfo_form_page(
            &state,
            &s,
            &fields,
            &errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => refusal_page(&s, &e),
    }
}

#[derive(Template)]
#[template(path = "helfo_case.html")]
struct HelfoCasePage {
    frame: Frame,
    id: i64,
    version: i64,
    state: String,
    state_code: String,
    reason: String,
    rule: String,
    automatic: bool,
    valid_from: Option<String>,
    valid_until: Option<String>,
    summary: Vec<(String, String)>,
    events: Vec<EventView>,
    may_rule: bool,
    paper: bool,
    suggested_until: String,
    error: Option<String>,
    /// A request for more information: its question and the last day to answer.
    question: Option<(String, String)>,
    /// Whether this user (the applicant) may answer it.
    may_answer: bool,
    /// The default deadline of a request for information, in days (rule data SAKSBEHANDLING).
    information_days: Option<u32>,
}

#[derive(Template)]
#[template(path = "helfo_paper.html")]
struct HelfoPaperPage {
    frame: Frame,
    id: i64,
    created: String,
    address: Vec<String>,
    patient_name: String,
    birth_date: String,
    summary: Vec<(String, String)>,
    prescriber: String,
    hpr: String,
    trust: Option<String>,
}

async fn show_helfo(
    state: &AppState,
    s: &Session,
    id: i64,
    flash: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (record, events) = match workflow::load(state, &s.actor, id).await {
        Ok(r) if r.0.data.kind == "helfo" => r,
        Ok(_) => return refusal_page(s, &WorkflowError::NotFound),
        Err(e) => return refusal_page(s, &e),
    };
    let subject = serde_json::json!({ "case": id, "patient": record.data.patient_key });
    if let Err(r) = audit_page_read(state, s, &format!("GET /helfo/{id}"), subject).await {
        return r;
    }
    let st = helfo::State::from_code(&record.data.state).unwrap_or(helfo::State::Manual);
    let derived = workflow::derived_of(&record);
    let mut fields = workflow::fields_of(&record);
    if s.actor.role != Role::HelfoCaseworker
        && let Some(id) = fields.get_mut("patient_id")
        && id.len() == 11
    {
        id.replace_range(6.., "*****");
    }
    // The caseworker's default end date: the B3 time limit from today.
    let suggested_until = helfo::validate(&fields)
        .ok()
        .and_then(|f| helfo::valid_until(&f, today(), &state.rules).ok())
        .and_then(|(u, _)| u)
        .map(|d| d.to_string())
        .unwrap_or_default();
    render(
        status,
        &HelfoCasePage {
            frame: frame(
                format!("Sak H-{id}"),
                Some(s),
                if s.role == Role::HelfoCaseworker {
                    "/helfo/ko"
                } else {
                    "/helfo"
                },
                flash,
            ),
            id,
            version: record.version,
            state: st.describe().into(),
            state_code: st.code().into(),
            reason: derived["reason"].as_str().unwrap_or("").into(),
            rule: derived["rule"].as_str().unwrap_or("").into(),
            automatic: derived["automatic"].as_bool().unwrap_or(false),
            valid_from: record.data.valid_from.clone(),
            valid_until: record.data.valid_until.clone(),
            summary: labelled(&fields, &forms::helfo()),
            events: events_view(&events),
            may_rule: s.role == Role::HelfoCaseworker && st.is_pending(),
            paper: st == helfo::State::Paper,
            suggested_until,
            error,
            question: (st == helfo::State::MoreInformation).then(|| {
                (
                    derived["question"].as_str().unwrap_or("").to_string(),
                    derived["information_deadline"]
                        .as_str()
                        .map(lists::norwegian_date)
                        .unwrap_or_default(),
                )
            }),
            may_answer: st == helfo::State::MoreInformation
                && s.actor.subject == record.data.author,
            information_days: state
                .rules
                .case_handling
                .at(today())
                .ok()
                .map(|h| h.value.more_information_days),
        },
    )
}

/// `GET /helfo/{id}/papirsoknad`: the paper application as it is printed, signed and posted
/// (B3: a patient without fødselsnummer or D-number) — with the prescriber, the HPR number, a
/// signature line and Helfo's address from the rule data. Plain HTML: prints without JavaScript.
async fn helfo_paper(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let s = match require(&state, &headers, cases_api::HELFO_READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (record, _) = match workflow::load(&state, &s.actor, id).await {
        Ok(r) if r.0.data.kind == "helfo" && r.0.data.state == helfo::State::Paper.code() => r,
        Ok(_) => {
            return message(
                StatusCode::NOT_FOUND,
                Some(&s),
                "Ingen papirsøknad",
                "Saken er ikke en papirsøknad: den er sendt elektronisk.",
            );
        }
        Err(e) => return refusal_page(&s, &e),
    };
    let fields = workflow::fields_of(&record);
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let summary: Vec<(String, String)> = labelled(&fields, &forms::helfo())
        .into_iter()
        .filter(|(label, _)| !label.contains("papirsøknad") && !label.starts_with("Identifikasjon"))
        .collect();
    let address = state
        .rules
        .case_handling
        .at(today())
        .map(|h| h.value.helfo_address.clone())
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &HelfoPaperPage {
            frame: frame(format!("Papirsøknad H-{id}"), Some(&s), "/helfo", None),
            id,
            created: lists::norwegian_date(&record.data.created),
            address,
            patient_name: get("patient_name"),
            birth_date: cases::fields::parse_norwegian_date(&get("birth_date"))
                .map(|d| lists::norwegian_date(&d.to_string()))
                .unwrap_or_else(|_| get("birth_date")),
            summary,
            prescriber: record.data.author_name.clone(),
            hpr: get("prescriber_hpr"),
            trust: record.data.trust.clone(),
        },
    )
}

/// The applicant's answer to Helfo's request for more information.
async fn helfo_answer(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (s, fields, version) =
        match versioned_form(&state, &headers, cases_api::APPLICANTS, form).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let text = fields.get("answer").cloned().unwrap_or_default();
    match workflow::helfo_answer(&state, &s.actor, id, version, &text, today()).await {
        Ok(_) => Redirect::to(&format!("/helfo/{id}?melding=svar")).into_response(),
        Err(e) => match shown_on_case(&e) {
            Some((status, text)) => show_helfo(&state, &s, id, None, Some(text), status).await,
            None => refusal_page(&s, &e),
        },
    }
}

async fn helfo_case(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Query(q): Query<CaseQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::HELFO_READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    show_helfo(&state, &s, id, q.melding.as_deref(), None, StatusCode::OK).await
}

async fn helfo_ruling(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (s, fields, version) =
        match versioned_form(&state, &headers, cases_api::CASEWORKERS, form).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
    let ruling = match cases_api::parse_ruling(get("ruling"), get("valid_until"), get("deadline")) {
        Ok(r) => r,
        Err(CaseError(e)) => {
            let (status, errors) = cases_api::status_and_errors(&e);
            return show_helfo(
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
    match workflow::helfo_rule(
        &state,
        &s.actor,
        id,
        version,
        &ruling,
        get("reason"),
        today(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/helfo/{id}?melding=vedtak")).into_response(),
        Err(e) => match shown_on_case(&e) {
            Some((status, text)) => show_helfo(&state, &s, id, None, Some(text), status).await,
            None => refusal_page(&s, &e),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Overviews (O4).

#[derive(Template)]
#[template(path = "overviews.html")]
struct OverviewsPage {
    frame: Frame,
    tables: Vec<(String, cases::overview::Table)>,
    from: String,
    to: String,
    period: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct OverviewQuery {
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
}

async fn overviews(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::OVERVIEW_READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let subject =
        serde_json::json!({ "overview": "alle", "from": q.from, "to": q.to, "period": q.period });
    if let Err(r) = audit_page_read(&state, &s, "GET /oversikter", subject).await {
        return r;
    }
    let mut tables = Vec::new();
    let mut error = None;
    for name in ["kostnader", "utproving", "soknader"] {
        match cases_api::overview_table(
            &state,
            cases_api::overview_scope(s.role, s.actor.trust.as_deref()).as_deref(),
            name,
            q.from.as_deref(),
            q.to.as_deref(),
            q.period.as_deref(),
        )
        .await
        {
            Ok(t) => tables.push((name.to_string(), t)),
            Err(CaseError(e)) => {
                let (_, errors) = cases_api::status_and_errors(&e);
                error = Some(format!("{}: {}", errors[0].field, errors[0].message));
            }
        }
    }
    let t = today();
    render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &OverviewsPage {
            frame: frame("Oversikter", Some(&s), "/oversikter", None),
            tables,
            from: q.from.unwrap_or_else(|| format!("{}-01-01", t.year())),
            to: q.to.unwrap_or_else(|| t.to_string()),
            period: q.period.unwrap_or_else(|| "year".into()),
            error,
        },
    )
}

async fn overview_download(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let s = match require(&state, &headers, cases_api::OVERVIEW_READERS).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some((name, ext)) = file.rsplit_once('.') else {
        return message(
            StatusCode::NOT_FOUND,
            Some(&s),
            "Finnes ikke",
            "Ukjent fil.",
        );
    };
    let subject = serde_json::json!({ "overview": name, "format": ext, "from": q.from, "to": q.to, "period": q.period });
    if let Err(r) = audit_page_read(&state, &s, &format!("GET /oversikter/{file}"), subject).await {
        return r;
    }
    let table = match cases_api::overview_table(
        &state,
        cases_api::overview_scope(s.role, s.actor.trust.as_deref()).as_deref(),
        name,
        q.from.as_deref(),
        q.to.as_deref(),
        q.period.as_deref(),
    )
    .await
    {
        Ok(t) => t,
        Err(CaseError(e)) => return refusal_page(&s, &e),
    };
    match cases_api::export(&table, name, ext) {
        Ok(r) => r,
        Err(CaseError(e)) => refusal_page(&s, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// The drug catalogue (FEST).

/// A search hit, as shown.
pub struct HitView {
    varenr: String,
    name: String,
    atc: String,
    size: String,
    group: String,
    price: String,
}

fn kroner(ore: Option<u64>) -> String {
    ore.map(|p| format!("{},{:02} kr", p / 100, p % 100))
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    frame: Frame,
    snapshot: Option<String>,
    q: String,
    hits: Vec<HitView>,
    /// Every match, also those past the first hundred shown.
    total: usize,
}

#[derive(serde::Deserialize, Default)]
struct SearchQuery {
    q: Option<String>,
}

async fn catalogue_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let s = match require(&state, &headers, Role::ALL).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let loaded = match crate::catalogue::current(&state).await {
        Ok(l) => l,
        Err(e) => {
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&s),
                "Katalogen kan ikke leses",
                &e.to_string(),
            );
        }
    };
    let q = q.q.unwrap_or_default();
    let total = loaded.as_ref().map_or(0, |l| l.index.count(&q));
    let hits = match (&loaded, q.trim().is_empty()) {
        (Some(l), false) => l
            .index
            .search(&q, 100)
            .into_iter()
            .map(|h| HitView {
                varenr: h.varenr.clone(),
                name: h.name.clone(),
                atc: h.atc.clone(),
                size: h.size.clone(),
                group: h.prescription_group.clone(),
                price: kroner(h.price_ore),
            })
            .collect(),
        _ => Vec::new(),
    };
    render(
        StatusCode::OK,
        &CataloguePage {
            frame: frame("Legemiddelkatalog", Some(&s), "/katalog", None),
            snapshot: loaded.map(|l| l.snapshot.retrieved.clone()),
            q,
            hits,
            total,
        },
    )
}

/// The catalogue in force, or the page saying there is none (or it cannot be read).
// The refusal is the page itself, made once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
async fn catalogue_in_force(
    state: &AppState,
    s: &Session,
) -> Result<Arc<crate::catalogue::Loaded>, Response> {
    match crate::catalogue::current(state).await {
        Ok(Some(l)) => Ok(l),
        Ok(None) => Err(message(
            StatusCode::NOT_FOUND,
            Some(s),
            "Ingen katalog",
            "Ingen FEST-katalog er importert.",
        )),
        Err(e) => Err(message(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(s),
            "Katalogen kan ikke leses",
            &e.to_string(),
        )),
    }
}

#[derive(Template)]
#[template(path = "atc.html")]
struct AtcPage {
    frame: Frame,
    code: String,
    path: Vec<(String, String)>,
    children: Vec<(String, String, usize)>,
    packages: Vec<(String, String)>,
    snapshot: String,
}

#[derive(serde::Deserialize, Default)]
struct AtcQuery {
    code: Option<String>,
}

async fn atc_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<AtcQuery>,
) -> Response {
    let s = match require(&state, &headers, Role::ALL).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let loaded = match catalogue_in_force(&state, &s).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let code = q.code.unwrap_or_default().trim().to_ascii_uppercase();
    render(
        StatusCode::OK,
        &AtcPage {
            frame: frame(format!("ATC {code}"), Some(&s), "/katalog", None),
            path: loaded.index.atc_path(&code),
            children: loaded.index.atc_children(&code),
            packages: loaded
                .index
                .with_atc(&code)
                .into_iter()
                .map(|h| (h.varenr.clone(), format!("{} ({})", h.name, h.size)))
                .collect(),
            snapshot: loaded.snapshot.retrieved.clone(),
            code,
        },
    )
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage {
    frame: Frame,
    name: String,
    varenr: String,
    brand: String,
    substances: String,
    size: String,
    group: String,
    price: String,
    ddd: String,
    atc_path: Vec<(String, String)>,
    exemption: bool,
    exemption_application: String,
    refund: Vec<String>,
    substitutes: Vec<(String, String)>,
    snapshot: String,
}

async fn package_page(
    State(state): State<Arc<AppState>>,
    Path(varenr): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = match require(&state, &headers, Role::ALL).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let loaded = match catalogue_in_force(&state, &s).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Some(v) = crate::catalogue::package_json(&loaded, &varenr) else {
        return message(
            StatusCode::NOT_FOUND,
            Some(&s),
            "Finnes ikke",
            &format!(
                "Varenummer {varenr} finnes ikke i FEST {}.",
                loaded.snapshot.retrieved
            ),
        );
    };
    let text = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let refund = v["refund"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let codes: Vec<String> = r["codes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let conditions: Vec<String> = c["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|k| {
                            format!(
                                "vilkår {}: {}",
                                k["number"].as_str().unwrap_or(""),
                                k["text"].as_str().unwrap_or("")
                            )
                        })
                        .collect();
                    let mut t = format!(
                        "{} {}",
                        c["code"].as_str().unwrap_or(""),
                        c["term"].as_str().unwrap_or("")
                    );
                    if !conditions.is_empty() {
                        t.push_str(&format!(" ({})", conditions.join("; ")));
                    }
                    t
                })
                .collect();
            format!(
                "{} ({}), gruppe {} «{}», fra {}{}",
                r["basis_name"].as_str().unwrap_or(""),
                r["basis"].as_str().unwrap_or(""),
                r["group"].as_str().unwrap_or(""),
                r["use"].as_str().unwrap_or(""),
                r["valid_from"].as_str().unwrap_or(""),
                if codes.is_empty() {
                    String::new()
                } else {
                    format!(": {}", codes.join(", "))
                }
            )
        })
        .collect();
    render(
        StatusCode::OK,
        &PackagePage {
            frame: frame(text("name"), Some(&s), "/katalog", None),
            name: text("name"),
            varenr: text("varenr"),
            brand: text("brand"),
            substances: text("substances"),
            size: text("size"),
            group: text("prescription_group"),
            price: kroner(v["price_ore"].as_u64()),
            ddd: text("ddd"),
            atc_path: v["atc_path"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    (
                        a["code"].as_str().unwrap_or("").to_string(),
                        a["name"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect(),
            exemption: v["approval_exemption"].as_bool().unwrap_or(false),
            exemption_application: text("exemption_application"),
            refund,
            substitutes: v["substitutes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|h| {
                    (
                        h["varenr"].as_str().unwrap_or("").to_string(),
                        format!(
                            "{} ({})",
                            h["name"].as_str().unwrap_or(""),
                            h["size"].as_str().unwrap_or("")
                        ),
                    )
                })
                .collect(),
            snapshot: loaded.snapshot.retrieved.clone(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Static files.

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}
