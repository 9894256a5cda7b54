//! The `legemiddel` service: the decision contract over HTTP, behind sign-in, with every
//! decision served recorded in the audit trail before it is answered.
//!
//! **Architecture invariant:** the only crate that knows HTTP. Handlers are thin: check the
//! caller's role, call `contract` (which calls the pure core), record, answer. The same
//! [`App::build`] path serves `legemiddel serve` and the tests.

pub mod audit_head;
pub mod auth;
mod bodies;
mod cases_api;
mod catalogue;
pub mod cds;
mod exemptions;
pub use exemptions::{counts as exemption_counts, counts_csv as exemption_counts_csv};
pub mod dpop;
mod extract;
mod metrics;
pub mod openapi;
mod pharmacy;
mod security;
pub mod statistics;
pub mod stockpiles;
mod stockpiles_api;
mod web;
mod workflow;
pub mod xlsx;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use contract::ContractError;
use domain::Date;
use extract::{Path, Query};
use ruleset::RuleSet;
use store::{AuditWriter, Location, NewRecord, Store};
use tokio::net::TcpListener;

pub use auth::{KeySource, LocalKey, Role, User, Verifier};
use metrics::Metrics;
pub use security::csrf_for;
pub use store::StoreOptions;

/// How the service is set up. [`Config::new`] gives the defaults `legemiddel serve` uses.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on (port 0 for any free port).
    pub listen: SocketAddr,
    /// Where the data lives.
    pub location: Location,
    /// The rule data.
    pub rules: Arc<RuleSet>,
    /// An external OpenID Connect issuer, besides the local one.
    pub oidc: Option<Oidc>,
    /// When the web pages offer the local sign-in (the users of `local-users.toml`).
    pub local_sign_in: LocalSignIn,
    /// Accept tokens minted by `legemiddel token` even when an external issuer is configured.
    pub local_tokens: bool,
    /// The address people reach the service at (`https://…` behind TLS): session cookies are
    /// then `Secure`, and forms are accepted only from this origin.
    pub public_url: Option<String>,
    /// The longest token lifetime accepted (`exp − iat`, seconds).
    pub max_token_lifetime: i64,
    /// Connection limits.
    pub limits: Limits,
    /// Signed audit heads written outside the database, if the operator asks for them.
    pub checkpoints: Option<audit_head::Checkpoints>,
    /// Store settings.
    pub store: store::StoreOptions,
    /// Warn (in the log) when the FEST catalogue in force is older than this many days.
    pub fest_max_age_days: i64,
    /// A folder of dispensing-records files (CSV, Parquet) the analyst's page reads the yearly
    /// tables from; `None`: the page shows table 1 only.
    pub stats_dir: Option<std::path::PathBuf>,
}

impl Config {
    /// The defaults: local sign-in on loopback only, tokens up to 24 hours, 10 seconds to send
    /// the request headers, at most 1,024 open connections.
    pub fn new(listen: SocketAddr, location: Location, rules: Arc<RuleSet>) -> Config {
        Config {
            listen,
            location,
            rules,
            oidc: None,
            local_sign_in: LocalSignIn::LoopbackOnly,
            local_tokens: false,
            public_url: None,
            max_token_lifetime: auth::DEFAULT_MAX_LIFETIME,
            limits: Limits::default(),
            checkpoints: None,
            store: store::StoreOptions::default(),
            fest_max_age_days: fest::DEFAULT_MAX_AGE_DAYS,
            stats_dir: None,
        }
    }
}

/// When the password-free local sign-in is offered. It is for trying the product on one's own
/// machine: anyone who reaches the page can be anyone in `local-users.toml`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocalSignIn {
    /// Only when the service listens on a loopback address (the default).
    #[default]
    LoopbackOnly,
    /// Always, also on a public address (`--local-sign-in`), with a warning at every start.
    Always,
    /// Never (`--no-local-sign-in`).
    Off,
}

/// Limits that keep one client from exhausting the process.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// Most connections open at once; more wait in the kernel's queue.
    pub max_connections: usize,
    /// Longest time a request may take to be answered.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// An external token issuer (e.g. HelseID).
#[derive(Clone, Debug)]
pub struct Oidc {
    /// The issuer (`iss`).
    pub issuer: String,
    /// The audience this service expects (`aud`).
    pub audience: String,
    /// Where the issuer's keys are.
    pub keys: OidcKeys,
    /// The operator's file saying how its scopes and claims give roles (HelseID sends no `roles`
    /// claim); read again on SIGHUP.
    pub role_map: Option<std::path::PathBuf>,
}

/// Where an external issuer's signing keys are.
#[derive(Clone, Debug)]
pub enum OidcKeys {
    /// A JWKS document, given as text (never renewed).
    Json(String),
    /// A JWKS file the operator keeps (read again on SIGHUP).
    File(std::path::PathBuf),
    /// The issuer's JWKS URL; `None`: the `jwks_uri` of its metadata. Fetched again when a token
    /// names an unknown key (a rotation) and on SIGHUP.
    Url(Option<String>),
}

/// A failure to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or migrated.
    #[error("{0}")]
    Store(#[from] store::StoreError),
    /// The address could not be bound.
    #[error("kan ikke lytte på {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The key or the OIDC configuration is unusable.
    #[error("innlogging: {0}")]
    Auth(String),
    /// The settings contradict each other or are unusable.
    #[error("oppsett: {0}")]
    Config(String),
}

/// What every handler shares.
pub struct AppState {
    rules: Arc<RuleSet>,
    /// The local signing key, when local sign-in is on.
    local_key: Option<LocalKey>,
    store: Store,
    audit: AuditWriter,
    verifiers: Vec<Verifier>,
    metrics: Metrics,
    /// The FEST catalogue in force, loaded on first use.
    catalogue: catalogue::Cache,
    /// Cookies, origins and forms.
    web: security::WebSecurity,
    /// How old the catalogue in force may be before the log warns.
    fest_max_age_days: i64,
    /// The analyst's records files.
    stats_dir: Option<std::path::PathBuf>,
}

/// The service, bound and ready to run.
pub struct App {
    listener: TcpListener,
    router: Router,
    limits: Limits,
    verifiers: Vec<Verifier>,
}

/// What a reload (SIGHUP) renews while the service runs: the external issuer's keys, from its
/// URL or its file. Requests go on being answered meanwhile.
#[derive(Clone, Debug)]
pub struct Reloader {
    verifiers: Vec<Verifier>,
}

impl Reloader {
    /// Renews every verifier's keys from its source; a source that fails keeps its old keys and
    /// is logged.
    pub async fn reload(&self) {
        for v in &self.verifiers {
            if let Err(e) = v.reload().await {
                tracing::error!(issuer = v.issuer(), error = %e, "nøklene kunne ikke leses på nytt; de gamle gjelder");
            }
        }
    }
}

/// Roles that may ask for a decision.
pub(crate) const DECIDERS: &[Role] = &[
    Role::Prescriber,
    Role::ClinicHead,
    Role::MedicalDirector,
    Role::Pharmacist,
    Role::HelfoCaseworker,
    Role::Administrator,
];
/// Roles that may register a dispensing.
const DISPENSERS: &[Role] = &[Role::Pharmacist, Role::Administrator];
/// Every role (signed in).
pub(crate) const ANYONE: &[Role] = Role::ALL;

/// Every endpoint with the roles it allows (`None`: open to all, no token).
pub const ENDPOINTS: &[(&str, &str, Option<&[Role]>)] = &[
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
    ("GET", "/metrics", None),
    ("GET", "/api/openapi.json", None),
    ("GET", "/api/docs", None),
    ("POST", "/api/v1/decide", Some(DECIDERS)),
    ("POST", "/api/v1/decide/batch", Some(DECIDERS)),
    ("POST", "/api/v1/dispense", Some(DISPENSERS)),
    ("GET", "/api/v1/rules", Some(ANYONE)),
    (
        "POST",
        "/api/v1/stockpiles/events",
        Some(stockpiles_api::STOCK_KEEPERS),
    ),
    (
        "GET",
        "/api/v1/stockpiles/lots",
        Some(stockpiles_api::STOCK_READERS),
    ),
    (
        "GET",
        "/api/v1/stockpiles/coverage",
        Some(stockpiles_api::STOCK_READERS),
    ),
    (
        "POST",
        "/api/v1/stockpiles/allocate",
        Some(stockpiles_api::STOCK_KEEPERS),
    ),
    (
        "POST",
        "/api/v1/stockpiles/simulate",
        Some(stockpiles_api::STOCK_READERS),
    ),
    (
        "GET",
        "/api/v1/stockpiles/verify",
        Some(stockpiles_api::STOCK_READERS),
    ),
    ("GET", "/cds-services", None),
    ("POST", "/api/v1/off-label", Some(cases_api::APPLICANTS)),
    ("GET", "/api/v1/off-label", Some(cases_api::OFF_LABEL_STAFF)),
    (
        "GET",
        "/api/v1/off-label/{id}",
        Some(cases_api::OFF_LABEL_STAFF),
    ),
    ("PUT", "/api/v1/off-label/{id}", Some(cases_api::APPLICANTS)),
    (
        "POST",
        "/api/v1/off-label/{id}/moves",
        Some(cases_api::OFF_LABEL_ACTORS),
    ),
    ("POST", "/api/v1/helfo/lookup", Some(cases_api::APPLICANTS)),
    (
        "POST",
        "/api/v1/helfo/applications",
        Some(cases_api::APPLICANTS),
    ),
    (
        "GET",
        "/api/v1/helfo/applications/{id}",
        Some(cases_api::HELFO_READERS),
    ),
    (
        "POST",
        "/api/v1/helfo/applications/{id}/ruling",
        Some(cases_api::CASEWORKERS),
    ),
    (
        "POST",
        "/api/v1/helfo/applications/{id}/answer",
        Some(cases_api::APPLICANTS),
    ),
    ("GET", "/api/v1/helfo/queue", Some(cases_api::CASEWORKERS)),
    ("POST", "/api/v1/exemptions", Some(exemptions::FILERS)),
    ("GET", "/api/v1/exemptions", Some(exemptions::READERS)),
    ("GET", "/api/v1/exemptions/{id}", Some(exemptions::READERS)),
    (
        "POST",
        "/api/v1/exemptions/{id}/ruling",
        Some(exemptions::DMP),
    ),
    (
        "GET",
        "/api/v1/statistics/exemptions",
        Some(exemptions::STATISTICS_READERS),
    ),
    ("POST", "/api/v1/helfo/coverage", Some(cases_api::COVERAGE)),
    (
        "GET",
        "/api/v1/overviews/{name}",
        Some(cases_api::OVERVIEW_READERS),
    ),
    (
        "POST",
        "/api/v1/pharmacy/dispensings",
        Some(pharmacy::PHARMACISTS),
    ),
    (
        "GET",
        "/api/v1/pharmacy/claims",
        Some(pharmacy::CLAIM_READERS),
    ),
    ("GET", "/api/v1/catalogue", Some(ANYONE)),
    ("GET", "/api/v1/catalogue/atc", Some(ANYONE)),
    ("GET", "/api/v1/catalogue/{varenr}", Some(ANYONE)),
    (
        "POST",
        "/cds-services/legemiddel-order-select",
        Some(DECIDERS),
    ),
    (
        "POST",
        "/cds-services/legemiddel-order-sign",
        Some(DECIDERS),
    ),
    (
        "POST",
        "/cds-services/legemiddel-order-sign/feedback",
        Some(DECIDERS),
    ),
];

/// The local signing key from the store, created on first start.
pub async fn local_key(store: &Store) -> Result<LocalKey, StartError> {
    let (kid, der) = match store.signing_key().await? {
        Some(k) => k,
        None => {
            let fresh = LocalKey::generate();
            store
                .signing_key_or_insert(&fresh.kid, &fresh.to_pkcs8(), &now_rfc3339())
                .await?
        }
    };
    LocalKey::from_pkcs8(&kid, &der).map_err(StartError::Auth)
}

impl App {
    /// Opens and migrates the store, loads or creates the signing key, checks that every case
    /// change has its audit record, starts the audit writer (and the checkpoints, if asked for)
    /// and binds the address.
    pub async fn build(config: Config) -> Result<App, StartError> {
        let store = Store::open_with(&config.location, config.store.clone()).await?;
        let key = local_key(&store).await?;
        let local_sign_in = match config.local_sign_in {
            LocalSignIn::Off => false,
            LocalSignIn::LoopbackOnly if !config.listen.ip().is_loopback() => {
                tracing::info!(
                    listen = %config.listen,
                    "lokal innlogging er av: tjenesten lytter på en adresse andre kan nå; \
                     bruk --local-sign-in for å slå den på likevel"
                );
                false
            }
            LocalSignIn::LoopbackOnly if config.oidc.is_some() && !config.local_tokens => {
                tracing::info!(
                    "lokal innlogging er av: en ekstern utsteder er satt opp, og lokale tokens \
                     godtas ikke uten --local-tokens"
                );
                false
            }
            LocalSignIn::LoopbackOnly => true,
            LocalSignIn::Always => {
                tracing::warn!(
                    listen = %config.listen,
                    "lokal innlogging uten passord er slått på (--local-sign-in): alle som når \
                     tjenesten kan logge inn som hvem som helst i local-users.toml"
                );
                true
            }
        };
        if local_sign_in && config.oidc.is_some() && !config.local_tokens {
            return Err(StartError::Config(
                "lokal innlogging bruker lokale tokens, men med en ekstern utsteder godtas de bare \
                 med --local-tokens; slå av lokal innlogging (--no-local-sign-in) eller legg til --local-tokens"
                    .into(),
            ));
        }
        let mut verifiers = Vec::new();
        if config.oidc.is_none() || config.local_tokens {
            verifiers.push(Verifier::local(&key).with_max_lifetime(config.max_token_lifetime));
        }
        if let Some(o) = &config.oidc {
            let verifier = match &o.keys {
                OidcKeys::Json(json) => Verifier::from_jwks(&o.issuer, &o.audience, json),
                OidcKeys::File(path) => std::fs::read_to_string(path)
                    .map_err(|e| format!("JWKS {}: {e}", path.display()))
                    .and_then(|json| Verifier::from_jwks(&o.issuer, &o.audience, &json))
                    .map(|v| v.with_source(auth::KeySource::File(path.clone()))),
                OidcKeys::Url(url) => {
                    Verifier::from_issuer(&o.issuer, &o.audience, url.as_deref()).await
                }
            };
            let mut verifier = verifier
                .map_err(StartError::Auth)?
                .with_max_lifetime(config.max_token_lifetime);
            if let Some(file) = &o.role_map {
                verifier = verifier
                    .with_role_map_file(file)
                    .map_err(StartError::Config)?;
            }
            verifiers.push(verifier);
        }
        check_case_audit(&store).await?;
        let audit = AuditWriter::start(store.clone()).await?;
        if let Some(c) = config.checkpoints.clone() {
            tokio::spawn(audit_head::run_checkpoints(store.clone(), key.clone(), c));
        }
        let web =
            security::WebSecurity::new(config.public_url.as_deref()).map_err(StartError::Config)?;
        let state = Arc::new(AppState {
            rules: config.rules,
            local_key: local_sign_in.then_some(key),
            store,
            audit,
            verifiers,
            metrics: Metrics::default(),
            catalogue: catalogue::Cache::default(),
            web,
            fest_max_age_days: config.fest_max_age_days,
            stats_dir: config.stats_dir.clone(),
        });
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Ok(App {
            listener,
            verifiers: state.verifiers.clone(),
            router: router(state, config.limits),
            limits: config.limits,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// What renews the keys while the service runs (SIGHUP).
    pub fn reloader(&self) -> Reloader {
        Reloader {
            verifiers: self.verifiers.clone(),
        }
    }

    /// Serves until `shutdown` completes; requests in flight are finished first (for up to 30
    /// seconds). Each connection must send its request headers within the header timeout, and
    /// at most `max_connections` are open at once: a flood of half-sent requests holds a slot
    /// for seconds, not forever, and never more than the cap.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        security::serve(self.listener, self.router, self.limits, shutdown).await
    }
}

/// Every case event must have its audit record (they commit together since issue 9; older
/// data, or a database edited by hand, may differ). A gap is reported loudly at every start.
async fn check_case_audit(store: &Store) -> Result<(), StartError> {
    let missing = store.case_events_without_audit().await?;
    if !missing.is_empty() {
        let shown: Vec<String> = missing
            .iter()
            .take(20)
            .map(|(case, version)| format!("sak {case} versjon {version}"))
            .collect();
        tracing::error!(
            count = missing.len(),
            first = %shown.join(", "),
            "SAKSENDRINGER UTEN REVISJONSPOST: disse endringene står i sakshistorikken, men ikke i revisjonsloggen"
        );
    }
    Ok(())
}

fn router(state: Arc<AppState>, limits: Limits) -> Router {
    let api = Router::new()
        .route("/api/v1/decide", post(decide_one))
        .route("/api/v1/dispense", post(dispense_one))
        .route("/api/v1/rules", get(rules_in_force))
        .route(
            "/api/v1/off-label",
            post(cases_api::off_label_create).get(cases_api::off_label_list),
        )
        .route(
            "/api/v1/off-label/{id}",
            get(cases_api::off_label_get).put(cases_api::off_label_update),
        )
        .route(
            "/api/v1/off-label/{id}/moves",
            post(cases_api::off_label_move),
        )
        .route("/api/v1/stockpiles/lots", get(stockpiles_api::lots))
        .route("/api/v1/stockpiles/coverage", get(stockpiles_api::coverage))
        .route(
            "/api/v1/stockpiles/allocate",
            post(stockpiles_api::allocate),
        )
        .route(
            "/api/v1/stockpiles/simulate",
            post(stockpiles_api::simulate),
        )
        .route("/api/v1/stockpiles/verify", get(stockpiles_api::verify))
        .route("/api/v1/helfo/lookup", post(cases_api::helfo_lookup))
        .route("/api/v1/helfo/applications", post(cases_api::helfo_create))
        .route("/api/v1/helfo/applications/{id}", get(cases_api::helfo_get))
        .route(
            "/api/v1/helfo/applications/{id}/ruling",
            post(cases_api::helfo_ruling),
        )
        .route(
            "/api/v1/helfo/applications/{id}/answer",
            post(cases_api::helfo_answer),
        )
        .route("/api/v1/helfo/queue", get(cases_api::helfo_queue))
        .route(
            "/api/v1/exemptions",
            post(exemptions::api_submit).get(exemptions::api_list),
        )
        .route("/api/v1/exemptions/{id}", get(exemptions::api_show))
        .route(
            "/api/v1/exemptions/{id}/ruling",
            post(exemptions::api_ruling),
        )
        .route("/api/v1/statistics/exemptions", get(exemptions::api_counts))
        .route("/api/v1/helfo/coverage", post(cases_api::helfo_coverage))
        .route("/api/v1/overviews/{name}", get(cases_api::overview_get))
        .route("/api/v1/pharmacy/dispensings", post(pharmacy::record))
        .route("/api/v1/pharmacy/claims", get(pharmacy::claims))
        .route("/api/v1/catalogue", get(catalogue::search))
        .route("/api/v1/catalogue/atc", get(catalogue::atc))
        .route("/api/v1/catalogue/{varenr}", get(catalogue::package))
        .layer(DefaultBodyLimit::max(256 * 1024))
        .merge(
            Router::new()
                .route("/api/v1/decide/batch", post(decide_batch))
                .layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
        )
        .merge(
            // Up to 10,000 events a call (about 300 bytes each).
            Router::new()
                .route("/api/v1/stockpiles/events", post(stockpiles_api::events))
                .layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        );
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/api/openapi.json", get(openapi))
        .route("/api/docs", get(docs))
        .merge(
            // CDS Hooks: for record systems, also from a browser (SMART apps), so with CORS.
            Router::new()
                .route("/cds-services", get(cds_discovery))
                .route(
                    "/cds-services/{id}",
                    post(cds_hook).layer(DefaultBodyLimit::max(1024 * 1024)),
                )
                .route("/cds-services/{id}/feedback", post(cds_feedback))
                .layer(
                    tower_http::cors::CorsLayer::new()
                        .allow_origin(tower_http::cors::Any)
                        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                        .max_age(std::time::Duration::from_secs(600)),
                ),
        )
        .merge(api)
        .merge(web::routes().layer(DefaultBodyLimit::max(256 * 1024)))
        .fallback(not_found)
        .layer(middleware::from_fn(enveloped_rejections))
        .layer(middleware::from_fn_with_state(state.clone(), dpop_proofs))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::forms,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), measure))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .with_state(state)
}

/// An answer with a status and `{"error": {"field", "message"}}`.
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) field: String,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<ContractError> for ApiError {
    fn from(e: ContractError) -> Self {
        // Malformed JSON is a bad request; well-formed JSON with a bad value is unprocessable.
        let status = if e.message.starts_with("ugyldig JSON") {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        ApiError {
            status,
            field: e.field,
            message: e.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Vec::new();
        let missing_token = self.message == auth::AuthError::Missing.to_string();
        contract::write_error(
            &ContractError::new(self.field, self.message),
            None,
            &mut body,
        );
        let mut response = (self.status, json_headers(), body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 § 3: a request without a token gets the scheme alone; one with a token
            // that does not pass gets error="invalid_token".
            let challenge = if missing_token {
                HeaderValue::from_static("Bearer realm=\"legemiddel\"")
            } else {
                HeaderValue::from_static("Bearer realm=\"legemiddel\", error=\"invalid_token\"")
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

pub(crate) fn json_headers() -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )]
}

/// A JSON answer that has been recorded in the audit trail, with its place in the chain.
pub(crate) fn audited(receipt: &store::Receipt, body: Vec<u8>) -> Response {
    let seq = HeaderValue::from(receipt.seq);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (header::HeaderName::from_static("x-audit-seq"), seq),
    ];
    (headers, body).into_response()
}

/// The caller, if the token verifies and grants one of `allowed`.
pub(crate) fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    allowed: &[Role],
) -> Result<(User, Role), ApiError> {
    // The scheme's name is case-insensitive (RFC 9110 § 11.1): "bearer", "BEARER" are Bearer.
    // A DPoP token's proof was checked by `dpop_proofs`, which names the proof's key.
    let proof_jkt = headers.get(DPOP_JKT).and_then(|v| v.to_str().ok());
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("bearer")
                || (scheme.eq_ignore_ascii_case("dpop") && proof_jkt.is_some())
        })
        .map(|(_, token)| token)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Authorization",
                auth::AuthError::Missing.to_string(),
            )
        })?;
    let mut last = auth::AuthError::Missing;
    for v in &state.verifiers {
        match v.verify_bound(token.trim(), proof_jkt) {
            Ok(user) => {
                let role = user.role_among(allowed).ok_or_else(|| {
                    let names: Vec<&str> = allowed.iter().map(|r| r.code()).collect();
                    ApiError::new(
                        StatusCode::FORBIDDEN,
                        "Authorization",
                        format!("krever en av rollene: {}", names.join(", ")),
                    )
                })?;
                return Ok((user, role));
            }
            Err(e) => last = e,
        }
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "Authorization",
        last.to_string(),
    ))
}

/// Records a read of health data — who, when, which patient or case, through which endpoint —
/// before the data goes out. If the read cannot be recorded, it is not served.
pub(crate) async fn audit_read(
    state: &AppState,
    user: &User,
    role: Role,
    endpoint: &str,
    subject: serde_json::Value,
) -> Result<store::Receipt, ApiError> {
    let record = NewRecord {
        at: now_rfc3339(),
        actor: user.subject.clone(),
        role: role.code().into(),
        action: format!("read:{endpoint}"),
        rule_set: String::new(),
        request: subject.to_string(),
        response: String::new(),
    };
    append(
        state,
        record,
        "oppslaget kunne ikke journalføres i revisjonsloggen, og vises derfor ikke; prøv igjen",
    )
    .await
}

/// Appends a record through the audit writer; a failure is the `503` with `refusal`.
async fn append(
    state: &AppState,
    record: NewRecord,
    refusal: &str,
) -> Result<store::Receipt, ApiError> {
    state.audit.record(record).await.map_err(|e| {
        tracing::error!(error = %e, "revisjonsloggen kunne ikke skrives");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "$", refusal)
    })
}

/// Records what was asked and answered; only then may the answer go out. The receipt's
/// sequence number goes back in the `X-Audit-Seq` header, so a caller can cite the record.
pub(crate) async fn record(
    state: &AppState,
    user: &User,
    role: Role,
    action: &str,
    rule_set: &str,
    request: &[u8],
    response: &[u8],
) -> Result<store::Receipt, ApiError> {
    let record = NewRecord {
        at: now_rfc3339(),
        actor: user.subject.clone(),
        role: role.code().into(),
        action: action.into(),
        rule_set: rule_set.into(),
        request: String::from_utf8_lossy(request).into_owned(),
        response: String::from_utf8_lossy(response).into_owned(),
    };
    append(
        state,
        record,
        "beslutningen kunne ikke journalføres i revisjonsloggen; prøv igjen",
    )
    .await
}

async fn decide_one(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, DECIDERS)?;
    // A product named by varenummer is completed from the FEST catalogue first.
    let completed = catalogue::complete(&state, &body).await?;
    let request_bytes: &[u8] = completed.as_ref().map_or(&body, |(b, _)| b);
    let req = contract::parse_decision_request(request_bytes)?;
    let mut decision = decide::decide(&req, &state.rules).map_err(ContractError::from)?;
    let summary = completed.map(|(_, r)| contract::catalogue::annotate(&mut decision, r));
    let mut out = Vec::with_capacity(2048);
    contract::write_decision(&decision, &mut out);
    if let Some(s) = &summary {
        out = contract::catalogue::with_summary(out, s);
    }
    let receipt = record(
        &state,
        &user,
        role,
        "decide",
        decision.rule_set,
        &body,
        &out,
    )
    .await?;
    state.metrics.decision(decision.scheme.code());
    Ok(audited(&receipt, out))
}

async fn dispense_one(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, DISPENSERS)?;
    let req = contract::parse_dispensing_request(&body)?;
    let decision = dispense::dispense(&req, &state.rules).map_err(ContractError::from)?;
    let mut out = Vec::with_capacity(1024);
    contract::write_dispensing(&decision, &mut out);
    let receipt = record(
        &state,
        &user,
        role,
        "dispense",
        decision.rule_set,
        &body,
        &out,
    )
    .await?;
    Ok(audited(&receipt, out))
}

/// A JSON array of requests in, a JSON array of decisions (or `{"error": …}`) out, in order.
async fn decide_batch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, DECIDERS)?;
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "$",
            format!("ventet en JSON-liste av forespørsler: {e}"),
        )
    })?;
    let mut out = Vec::with_capacity(items.len() * 2048 + 2);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let answered = contract::parse_decision_request(item.get().as_bytes()).and_then(|req| {
            decide::decide(&req, &state.rules)
                .map_err(ContractError::from)
                .map(|d| {
                    state.metrics.decision(d.scheme.code());
                    contract::write_decision(&d, &mut out);
                })
        });
        if let Err(e) = answered {
            let field = format!("[{i}].{}", e.field);
            contract::write_error(&ContractError::new(field, e.message), None, &mut out);
        }
    }
    out.push(b']');
    let receipt = record(
        &state,
        &user,
        role,
        "decide_batch",
        &state.rules.version(),
        &body,
        &out,
    )
    .await?;
    Ok(audited(&receipt, out))
}

async fn cds_discovery() -> Response {
    (json_headers(), cds::discovery().to_string()).into_response()
}

/// CDS Hooks feedback (`POST /cds-services/{id}/feedback`): what the clinician did with each
/// card — accepted (with the suggestions taken) or overridden (with the reason) — recorded in the
/// audit trail beside the decision it is about.
async fn cds_feedback(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, DECIDERS)?;
    if cds::hook_of(&id).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "id",
            format!("ukjent CDS-tjeneste «{id}»"),
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "$", format!("ugyldig JSON: {e}")))?;
    if let Some((field, message)) = cds::malformed_feedback(&v) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, &field, message));
    }
    let receipt = record(
        &state,
        &user,
        role,
        &format!("cds-feedback:{id}"),
        &state.rules.version(),
        &body,
        b"{}",
    )
    .await?;
    Ok(audited(&receipt, b"{}".to_vec()))
}

/// A CDS Hooks call: decide every draft order and answer with cards.
async fn cds_hook(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, DECIDERS)?;
    let Some(hook_name) = cds::hook_of(&id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "id",
            format!("ukjent CDS-tjeneste «{id}»"),
        ));
    };
    let hook: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "$", format!("ugyldig JSON: {e}")))?;
    if hook["hook"] != hook_name {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "hook",
            format!("tjenesten {id} tar kroken {hook_name}"),
        ));
    }
    if let Some((field, message)) = cds::malformed(&hook) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, field, message));
    }
    let orders = cds::orders(&hook, user.prescriber_role.as_deref(), &today().to_string())
        .map_err(|m| {
            ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                m.0.split(':').next().unwrap_or("$"),
                m.0.clone(),
            )
        })?;
    let mut cards = Vec::new();
    let mut rule_set = state.rules.version();
    let mut requests = Vec::with_capacity(orders.len());
    for (i, order) in orders.iter().enumerate() {
        let request = match &order.request {
            Ok(request) => request,
            Err(undecidable) => {
                cards.push(cds::undecidable_card(undecidable));
                continue;
            }
        };
        let unprocessable = |e: ContractError| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("draftOrders[{i}] → {}", e.field),
                e.message,
            )
        };
        // A FEST-coded order is completed from the catalogue in force, as /api/v1/decide does.
        let bytes = request.to_string().into_bytes();
        let completed = catalogue::complete(&state, &bytes).await?;
        let req = contract::parse_decision_request(
            completed.as_ref().map_or(&bytes[..], |(c, _)| &c[..]),
        )
        .map_err(unprocessable)?;
        let d = decide::decide(&req, &state.rules).map_err(|e| unprocessable(e.into()))?;
        state.metrics.decision(d.scheme.code());
        rule_set = d.rule_set.to_string();
        let mut out = Vec::with_capacity(2048);
        contract::write_decision(&d, &mut out);
        // The cards are built from the contract's JSON, as a record system would read it.
        let decision: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        let named = completed
            .as_ref()
            .and_then(|(c, _)| serde_json::from_slice::<serde_json::Value>(c).ok())
            .unwrap_or_else(|| request.clone());
        cards.extend(cds::cards(
            &decision,
            &cds::medicine_name(&named),
            order.resource,
        ));
        requests.push(request.clone());
    }
    // The audit trail keeps the decision requests the hook was mapped to, not the FHIR body:
    // a prefetched Patient may carry a national identity number, which is not stored.
    let minimized = serde_json::Value::from(requests).to_string().into_bytes();
    let answer = serde_json::json!({ "cards": cards })
        .to_string()
        .into_bytes();
    let receipt = record(
        &state,
        &user,
        role,
        &format!("cds:{hook_name}"),
        &rule_set,
        &minimized,
        &answer,
    )
    .await?;
    Ok(audited(&receipt, answer))
}

#[derive(serde::Deserialize)]
struct RulesQuery {
    date: Option<String>,
}

async fn rules_in_force(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<RulesQuery>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, ANYONE)?;
    let date = match q.date {
        Some(d) => Date::parse(&d)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "date", e.to_string()))?,
        None => today(),
    };
    let body = contract::rules_json(&state.rules, date);
    Ok((json_headers(), body.to_string()).into_response())
}

/// Ready when the store takes a commit now (a read alone would pass on a full disk or a
/// read-only database) and the database file is the one opened.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    match state.store.probe_write(&now_rfc3339()).await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("kan ikke lagre: {e}\n"),
        )
            .into_response(),
    }
}

/// An address no route serves: the JSON error envelope under /api and /cds-services, a
/// Norwegian page elsewhere.
async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path.starts_with("/cds-services") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "$",
            format!("ingen tjeneste på {path}"),
        )
        .into_response()
    } else {
        web::not_found_page().await
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&state.rules.version()),
    )
        .into_response()
}

async fn openapi() -> Response {
    (json_headers(), openapi::document()).into_response()
}

async fn docs() -> Html<String> {
    let doc: serde_json::Value = serde_json::from_str(openapi::document()).unwrap_or_default();
    let mut rows = String::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            for (method, op) in ops.as_object().into_iter().flatten() {
                rows.push_str(&format!(
                    "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
                    method.to_uppercase(),
                    path,
                    op["summary"].as_str().unwrap_or("")
                ));
            }
        }
    }
    Html(format!(
        "<!doctype html><html lang=\"nb\"><head><meta charset=\"utf-8\"><title>legemiddel API</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"ramme\">\
         <h1>legemiddel API</h1><p>Maskinlesbar beskrivelse: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3). \
         Alle /api/v1-kall krever <code>Authorization: Bearer &lt;token&gt;</code>.</p>\
         <table><thead><tr><th>Metode</th><th>Sti</th><th>Hva</th></tr></thead><tbody>{rows}</tbody></table></body></html>"
    ))
}

/// axum refuses a body over the route's limit itself, in English plain text; this service
/// refuses in its envelope under `/api` and `/cds-services` (a Norwegian page elsewhere), as it
/// does every other bad input.
async fn enveloped_rejections(request: Request, next: middleware::Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return extract::refuse(
            &path,
            StatusCode::PAYLOAD_TOO_LARGE,
            "$",
            "forespørselen er større enn denne adressen tar imot".into(),
        );
    }
    response
}

/// Times every request and counts it by route and status.
/// The thumbprint of a checked DPoP proof's key, for [`authorize`]: set only by [`dpop_proofs`],
/// which first removes any the caller sent.
const DPOP_JKT: &str = "x-legemiddel-dpop-jkt";

/// An answer refusing a DPoP proof (RFC 9449 § 7.1).
fn dpop_refused(status: StatusCode, why: &str) -> Response {
    let body = serde_json::json!({"error": {"field": "DPoP", "message": format!("ugyldig DPoP-bevis: {why}")}});
    let mut response = (status, json_headers(), body.to_string()).into_response();
    let challenge = format!(
        "DPoP error=\"invalid_dpop_proof\", error_description=\"{}\", algs=\"ES256 RS256 PS256 EdDSA\"",
        why.replace(['"', '\\'], "'")
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// **DPoP** (RFC 9449): for `Authorization: DPoP <token>`, the one `DPoP` proof is checked
/// ([`dpop::check`]: type, signature, method, URL, time, the token's hash), its `jti` recorded
/// in the store so no instance takes it twice, and its key's thumbprint handed to [`authorize`],
/// which requires the token to be bound to it.
async fn dpop_proofs(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    request.headers_mut().remove(DPOP_JKT);
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("dpop"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        return next.run(request).await;
    };
    let proofs: Vec<&str> = request
        .headers()
        .get_all("dpop")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let [proof] = proofs[..] else {
        return dpop_refused(
            StatusCode::UNAUTHORIZED,
            "send nøyaktig én DPoP-header med beviset",
        );
    };
    // The URL the client called: the public address behind a proxy, else the Host it named.
    let base = match &state.web.origin {
        Some(origin) => origin.clone(),
        None => format!(
            "http://{}",
            request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
        ),
    };
    let url = format!("{base}{}", request.uri().path());
    let now = now_epoch();
    let checked = dpop::check(proof, request.method().as_str(), &url, &token, now);
    let proof = match checked {
        Ok(p) => p,
        Err(why) => return dpop_refused(StatusCode::UNAUTHORIZED, &why),
    };
    match state
        .store
        .first_use_of_proof(&proof.jti, now + 2 * dpop::IAT_WINDOW, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => return dpop_refused(StatusCode::UNAUTHORIZED, "beviset er brukt før (jti)"),
        Err(e) => {
            tracing::error!(error = %e, "DPoP-bevis kunne ikke lagres");
            return dpop_refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "databasen svarte ikke; prøv igjen",
            );
        }
    }
    if let Ok(v) = HeaderValue::from_str(&proof.jkt) {
        request.headers_mut().insert(DPOP_JKT, v);
    }
    next.run(request).await
}

/// The request id a caller sent (`X-Request-Id`), if it is one that can go in a log line as it
/// is: 1–128 visible ASCII characters.
fn given_request_id(request: &Request) -> Option<String> {
    let v = request.headers().get("x-request-id")?.to_str().ok()?;
    (!v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| v.to_string())
}

/// Every request: its id (the caller's `X-Request-Id`, or a new one), given back in the answer and
/// carried by every log line made while it is answered; one JSON log line when it is done — the
/// route's template, never the path or query (they can hold a fødselsnummer) — and the metrics.
async fn measure(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    use tracing::Instrument as _;
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(ukjent)".to_string(), |p| p.as_str().to_string());
    let id =
        given_request_id(&request).unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
    let method = request.method().clone();
    let span = tracing::info_span!("request", request_id = %id);
    let start = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = start.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(&route, status, took);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status,
            duration_ms = took.as_secs_f64() * 1000.0,
            "svar"
        );
    });
    response
}

/// Now, as RFC 3339 UTC with milliseconds: the edge reads the clock, the core never does.
pub fn now_rfc3339() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Seconds since the epoch.
pub fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Today, in the service's time zone: the date a case is decided on.
pub fn today() -> Date {
    use chrono::Datelike;
    let d = chrono::Local::now().date_naive();
    Date::from_ymd(d.year(), d.month(), d.day())
        .unwrap_or_else(|| unreachable!("chrono gives real dates"))
}
