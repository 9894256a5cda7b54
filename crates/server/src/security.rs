//! What keeps the service safe on an open network: security headers on every answer, forms
//! accepted only from this service's own pages (an origin check and a per-session CSRF token),
//! and a server loop that caps open connections and the time a client may take to send its
//! request headers.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::{AppState, Limits};

/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// Cookie and origin settings, from `--public-url`.
#[derive(Clone, Debug, Default)]
pub struct WebSecurity {
    /// `https://host[:port]` or `http://…`: forms are accepted from this origin only.
    pub origin: Option<String>,
    /// Session cookies carry `Secure` (the service is reached over HTTPS).
    pub secure_cookies: bool,
}

impl WebSecurity {
    /// From the public URL, if given (`https://legemiddel.example.no/`).
    pub fn new(public_url: Option<&str>) -> Result<WebSecurity, String> {
        let Some(url) = public_url else {
            return Ok(WebSecurity::default());
        };
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| *s == "https" || *s == "http")
            .ok_or_else(|| format!("--public-url «{url}»: ventet https://vert[:port]"))?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err(format!("--public-url «{url}»: mangler vertsnavn"));
        }
        Ok(WebSecurity {
            origin: Some(format!("{scheme}://{host}")),
            secure_cookies: scheme == "https",
        })
    }

    /// The attributes every session cookie has.
    pub fn cookie_attributes(&self) -> &'static str {
        if self.secure_cookies {
            "Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Strict"
        }
    }
}

/// The CSRF token of a session: derived from the session's token, so it is the same on every
/// instance and cannot be computed by a page that cannot read the (HttpOnly) cookie.
pub fn csrf_for(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"legemiddel-csrf/1\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The hash a token is known by when its session is ended (the token itself is not stored).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every answer, and `Cache-Control: no-store` on every one that does not
/// set its own caching (pages and API answers carry patient and case data; only the static
/// style sheet and script may be kept).
pub async fn headers(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if state.web.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Whether a request changes state through a form (the API's bearer tokens are not sent by a
/// browser on its own, so it needs no CSRF token).
fn is_form_post(request: &Request) -> bool {
    let path = request.uri().path();
    !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && !path.starts_with("/api/")
        && !path.starts_with("/cds-services")
}

/// The origin a header names (`Origin`, or the origin part of `Referer`).
fn origin_of(headers: &HeaderMap) -> Option<String> {
    if let Some(o) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return Some(o.to_string());
    }
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let (scheme, rest) = referer.split_once("://")?;
    Some(format!(
        "{scheme}://{}",
        rest.split('/').next().unwrap_or_default()
    ))
}

/// Whether `origin` is this service: the public URL's origin when configured, otherwise the
/// host the request was sent to.
fn same_origin(web: &WebSecurity, headers: &HeaderMap, origin: &str) -> bool {
    match &web.origin {
        Some(expected) => origin.eq_ignore_ascii_case(expected),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            origin
                .split_once("://")
                .is_some_and(|(_, h)| !host.is_empty() && h.eq_ignore_ascii_case(host))
        }
    }
}

/// Refuses a form that was not sent from this service's own pages: a foreign `Origin` (or
/// `Referer`), or — for a signed-in session — a missing or wrong CSRF token.
pub async fn forms(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if !is_form_post(&request) {
        return next.run(request).await;
    }
    if let Some(origin) = origin_of(request.headers())
        && !same_origin(&state.web, request.headers(), &origin)
    {
        return crate::web::error_page(
            StatusCode::FORBIDDEN,
            &format!(
                "Skjemaet ble sendt fra et annet nettsted ({origin}) og er avvist. Bruk skjemaene på denne tjenestens egne sider."
            ),
        );
    }
    let session = crate::web::cookie_token(request.headers()).map(str::to_string);
    let (Some(session), false) = (session, request.uri().path() == "/logg-inn") else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return crate::web::error_page(StatusCode::PAYLOAD_TOO_LARGE, "Skjemaet er for stort.");
        }
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let sent = pairs
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.as_str());
    if sent != Some(csrf_for(&session).as_str()) {
        return crate::web::error_page(
            StatusCode::FORBIDDEN,
            "Skjemaet er utløpt eller ble ikke sendt fra denne tjenesten, og ingenting er lagret. \
             Gå tilbake, last siden på nytt og send skjemaet igjen.",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Accepts connections until `shutdown`, each served by hyper with a deadline for its request
/// headers, and never more than `max_connections` at once (the rest wait in the kernel's
/// backlog). Requests in flight are finished on shutdown, for up to 30 seconds.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, _remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "kunne ikke ta imot en forbindelse");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("stopper: forespørsler som ikke ble ferdige på 30 sekunder, avbrytes");
        },
    }
    Ok(())
}
