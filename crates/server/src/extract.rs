//! axum's `Path`, `Query` and `Form`, answering a bad value the way the rest of the service
//! does: in the JSON error envelope (`{"error": {"field", "message"}}`) under `/api` and
//! `/cds-services`, and as a Norwegian page elsewhere — never axum's plain English text.

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A path parameter.
pub struct Path<T>(pub T);
/// A query string.
pub struct Query<T>(pub T);
/// A form body (`application/x-www-form-urlencoded`).
pub struct Form<T>(pub T);

/// A refusal in the shape the path calls for.
pub(crate) fn refuse(path: &str, status: StatusCode, field: &str, message: String) -> Response {
    if path.starts_with("/api/") || path.starts_with("/cds-services") {
        ApiError::new(status, field, message).into_response()
    } else {
        crate::web::error_page(status, &message)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) => {
                use axum::extract::path::ErrorKind as K;
                let (field, message) = match &rejection {
                    PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                        K::ParseErrorAtKey {
                            key,
                            value,
                            expected_type,
                        } => (
                            key.clone(),
                            format!("«{value}» i adressen er ikke {}", type_name(expected_type)),
                        ),
                        K::ParseError {
                            value,
                            expected_type,
                        }
                        | K::ParseErrorAtIndex {
                            value,
                            expected_type,
                            ..
                        } => {
                            // One parameter parsed as a whole: name it from the route.
                            let key =
                                axum::extract::RawPathParams::from_request_parts(parts, state)
                                    .await
                                    .ok()
                                    .and_then(|raw| {
                                        raw.iter()
                                            .find(|(_, v)| v == value)
                                            .map(|(k, _)| k.to_string())
                                    })
                                    .unwrap_or_else(|| "$path".into());
                            (
                                key,
                                format!(
                                    "«{value}» i adressen er ikke {}",
                                    type_name(expected_type)
                                ),
                            )
                        }
                        _ => ("$path".into(), "adressen kan ikke leses".into()),
                    },
                    _ => ("$path".into(), "adressen kan ikke leses".into()),
                };
                Err(refuse(
                    parts.uri.path(),
                    StatusCode::BAD_REQUEST,
                    &field,
                    message,
                ))
            }
        }
    }
}

/// A Rust type named for people.
fn type_name(rust: &str) -> &'static str {
    match rust {
        "i64" | "u64" | "i32" | "u32" | "usize" => "et heltall",
        "bool" => "sann eller usann (true/false)",
        _ => "en gyldig verdi",
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(rejection) => {
                let detail = match &rejection {
                    QueryRejection::FailedToDeserializeQueryString(e) => {
                        let text = e.body_text();
                        text.split_once(": ")
                            .map_or(text.clone(), |(_, d)| d.to_string())
                    }
                    other => other.body_text(),
                };
                Err(refuse(
                    parts.uri.path(),
                    StatusCode::BAD_REQUEST,
                    "$query",
                    format!("spørrestrengen i adressen kan ikke leses ({detail})"),
                ))
            }
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let path = request.uri().path().to_string();
        match axum::extract::Form::<T>::from_request(request, state).await {
            Ok(axum::extract::Form(v)) => Ok(Form(v)),
            Err(rejection) => {
                let (status, message) = match &rejection {
                    FormRejection::InvalidFormContentType(_) => (
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "skjemaet må sendes som application/x-www-form-urlencoded".to_string(),
                    ),
                    _ => (
                        StatusCode::BAD_REQUEST,
                        "skjemaet kan ikke leses; last siden på nytt og prøv igjen".to_string(),
                    ),
                };
                Err(refuse(&path, status, "$form", message))
            }
        }
    }
}
