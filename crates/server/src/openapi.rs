//! The OpenAPI 3 document served at `/api/openapi.json`.
//!
//! What each operation takes and answers is written in `openapi.json`, except what the code can
//! say itself. That is filled in from the code, so it cannot drift from the server:
//!
//! - every JSON request body but the case forms and CDS Hooks: made from the struct it is read
//!   with (schemars) — the `decide` and `dispense` requests and a pharmacy dispensing
//!   ([`contract::request_schemas`]), stockpile events, deliveries and supply stops, case moves
//!   and rulings, coverage questions ([`crate::bodies`]) — so every field the reader takes is
//!   there with its type, bounds, pattern and codes, and no other;
//! - the case forms' `fields`: the names each case kind reads (`cases::…::FIELDS`), no others;
//! - the `Decision` and `DispensingDecision` answers: made from the shape the hand writer is
//!   held to byte for byte ([`contract::shape`], a property test);
//! - the coded values (payer, scheme, prescription, setting, role …): listed from the domain
//!   enum that reads and writes them, so a code added there is in the document too;
//! - who may call: the roles of [`ENDPOINTS`], the table the authorisation checks use;
//! - the security requirement of every signed-in operation (bearer, or DPoP-bound);
//! - the error answers every operation of a kind gives, in the one envelope
//!   (`{"error": {"field", "message"}}`): `400` for a path or query value of the wrong type or
//!   a body that is not JSON ([`crate::extract`] names the field); `413` for a body over the
//!   operation's limit; `401` and `403` for a signed-in operation; `503` when the audit trail
//!   cannot be written.
//!
//! The test `the_openapi_document_lists_every_endpoint` holds the document and [`ENDPOINTS`]
//! together both ways; schemathesis (`.ci/schemathesis.sh`) holds the written parts to what the
//! server does.

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
        requests(&mut doc);
        case_forms(&mut doc);
        complete(&mut doc);
        doc.to_string()
    })
}

/// The bodies' schemas, from the structs they are read with: the contract's requests and a
/// pharmacy dispensing ([`contract::request_schemas`]), and the service's own bodies
/// ([`crate::bodies`]); and the two answers' schemas, from the shape the writer is held to
/// ([`contract::shape`]).
fn requests(doc: &mut Value) {
    for generated in [
        contract::request_schemas(),
        contract::shape::answer_schemas(),
        crate::bodies::schemas(),
    ] {
        if let Value::Object(generated) = generated {
            for (name, schema) in generated {
                doc["components"]["schemas"][name] = schema;
            }
        }
    }
}

/// The case forms' bodies: `fields` lists exactly the names the case kind reads (its `FIELDS`
/// in `cases`), which is what [`crate::cases_api::form_body`] takes and refuses by.
fn case_forms(doc: &mut Value) {
    let forms: [(&str, &str, &[&str], bool); 5] = [
        ("/api/v1/off-label", "post", cases::off_label::FIELDS, false),
        (
            "/api/v1/off-label/{id}",
            "put",
            cases::off_label::FIELDS,
            true,
        ),
        ("/api/v1/helfo/lookup", "post", cases::helfo::FIELDS, false),
        (
            "/api/v1/helfo/applications",
            "post",
            cases::helfo::FIELDS,
            false,
        ),
        (
            "/api/v1/exemptions",
            "post",
            cases::exemption::FIELDS,
            false,
        ),
    ];
    // A draft may hold anything typed so far: text, a number, yes/no, lines (a list of texts);
    // the form's rules check the values when it is submitted.
    let value = json!({
        "nullable": true,
        "anyOf": [
            { "type": "string" }, { "type": "number" }, { "type": "boolean" },
            { "type": "array", "items": { "type": "string" } }
        ]
    });
    for (path, method, names, versioned) in forms {
        let Some(schema) = doc.pointer_mut(&format!(
            "/paths/{}/{method}/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        )) else {
            continue;
        };
        let described = schema["properties"]["fields"]["description"].clone();
        let properties: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| (n.to_string(), value.clone()))
            .collect();
        let mut required = vec!["fields"];
        if versioned {
            required.push("version");
        }
        *schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": {
                "fields": {
                    "type": "object",
                    "additionalProperties": false,
                    "description": described,
                    "properties": properties,
                },
                "submit": { "type": "boolean", "nullable": true, "description": "Submit (checked in full and decided by the engine) rather than save a draft" },
                "version": { "type": "integer", "description": "The version the form was loaded at (when changing a saved case)" },
            }
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The coded values are listed beside their fields, from the domain's vocabularies, with
    /// `null` where the field may be null.
    #[test]
    fn coded_fields_list_their_vocabulary() {
        let served: Value = serde_json::from_str(document()).unwrap();
        let schemas = &served["components"]["schemas"];
        let enum_at = |pointer: &str| {
            schemas
                .pointer(pointer)
                .and_then(|s| s["enum"].as_array())
                .unwrap_or_else(|| panic!("no enum at {pointer}"))
                .clone()
        };
        assert_eq!(
            enum_at("/Decision/properties/scheme").len(),
            domain::Scheme::ALL.len()
        );
        assert_eq!(
            enum_at("/Decision/properties/explanation/items/properties/rule").len(),
            domain::RuleId::ALL.len()
        );
        let setting = enum_at("/DecisionRequest/properties/setting");
        assert_eq!(setting.len(), domain::Setting::ALL.len() + 1);
        assert!(setting.contains(&Value::Null), "nullable kept");
        for pointer in [
            "/DecisionRequest/properties/drug/properties/authorisation",
            "/DispensingRequest/properties/drug/properties/prescription_group",
            "/DecisionRequest/properties/opioid/properties/kind",
            "/DispensingRequest/properties/prescription/properties/form",
            "/DispensingDecision/properties/register_as",
            "/PharmacyDispensing/properties/prescription/properties/form",
            "/StockEvents/properties/events/items/properties/kind",
            "/OffLabelMove/properties/move",
        ] {
            assert!(!enum_at(pointer).is_empty(), "{pointer}");
        }
        // Every ATC field takes what the parser takes.
        for pointer in [
            "/DecisionRequest/properties/drug/properties/atc",
            "/DispensingRequest/properties/drug/properties/atc",
            "/StockEvents/properties/events/items/properties/atc",
            "/SupplyStop/properties/atc",
            "/CoverageQuestion/properties/atc",
        ] {
            assert_eq!(
                schemas.pointer(&format!("{pointer}/pattern")),
                Some(&json!(domain::Atc::pattern())),
                "{pointer}"
            );
        }
    }

    /// Every `$ref` names a schema the document has: the written parts point at the generated
    /// ones by name, so a name changed on a struct would leave a dangling reference.
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r);
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc: Value = serde_json::from_str(document()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.contains(&"#/components/schemas/StockEvents"));
        for r in found {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }
}
