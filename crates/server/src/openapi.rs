//! The OpenAPI 3 document served at `/api/openapi.json`.
//!
//! What each operation takes and answers — its parameters, body and success answer — is
//! written in `openapi.json`. What the code decides is filled in from the code, so it cannot
//! drift from the router:
//!
//! - who may call: the roles of [`ENDPOINTS`], the table the authorisation checks use;
//! - the security requirement of every signed-in operation (bearer, or DPoP-bound);
//! - the error answers every operation of a kind gives, in the one envelope
//!   (`{"error": {"field", "message"}}`): `400` for a path or query value of the wrong type or
//!   a body that is not JSON ([`crate::extract`] names the field); `413` for a body over the
//!   operation's limit; `401` and `403` for a
//!   signed-in operation; `503` when the audit trail cannot be written.
//!
//! The test `the_openapi_document_lists_every_endpoint` holds the two together both ways.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::{ENDPOINTS, Role};

/// The hand-written part: operations, parameters, bodies, success answers, schemas.
const WRITTEN: &str = include_str!("openapi.json");

/// The whole document, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc: Value =
            serde_json::from_str(WRITTEN).expect("openapi.json is JSON (a test reads it)");
        complete(&mut doc);
        doc.to_string()
    })
}

fn complete(doc: &mut Value) {
    doc["components"]["securitySchemes"]["dpop"] = json!({
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "A DPoP-bound HelseID access token (RFC 9449): `Authorization: DPoP <token>` with a `DPoP` proof header for this method and URL"
    });
    for &(method, path, roles) in ENDPOINTS {
        let Some(op) = doc["paths"][path]
            .get_mut(method.to_ascii_lowercase())
            .filter(|op| op.is_object())
        else {
            continue;
        };
        let reads_input = op["parameters"].as_array().is_some_and(|p| !p.is_empty())
            || op.get("requestBody").is_some();
        let has_body = op.get("requestBody").is_some();
        let responses = &mut op["responses"];
        if has_body {
            add(
                responses,
                "413",
                "The body is larger than this operation takes",
            );
        }
        if reads_input {
            add(
                responses,
                "400",
                "Unreadable input: a body that is not JSON, or a path or query value of the wrong type or unknown (the field is named)",
            );
        }
        let Some(roles) = roles else { continue };
        add(responses, "401", "No valid access token");
        add(responses, "403", "The token's roles may not do this");
        add(
            responses,
            "503",
            "The store could not be reached or written (full disk, database read-only or away): nothing was stored; try again",
        );
        op["security"] = json!([{ "bearer": [] }, { "dpop": [] }]);
        op["x-roles"] = json!(roles.iter().map(|r| r.code()).collect::<Vec<_>>());
        let who = if roles == Role::ALL {
            "every role".to_string()
        } else {
            roles
                .iter()
                .map(|r| r.code())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let written = op["description"].as_str().unwrap_or_default();
        let kept: Vec<&str> = written
            .lines()
            .filter(|l| !l.starts_with("Roles: "))
            .collect();
        let mut description = kept.join("\n").trim().to_string();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&format!("Roles: {who}"));
        op["description"] = json!(description);
    }
}

/// An error answer in the envelope, unless the written document says more about this status.
fn add(responses: &mut Value, status: &str, description: &str) {
    if responses.get(status).is_none() {
        responses[status] = json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        });
    }
}
