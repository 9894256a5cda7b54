//! CDS Hooks 2.0: the record system (EPJ) asks while the doctor prescribes (`order-select`,
//! `order-sign`) and gets cards: who pays and on which paper (`info`), what blocks it
//! (`warning`), what must be applied for — each with its source and a link to the rule text.
//!
//! **The mapping from FHIR to a decision request lives here, and only here:**
//!
//! | decision request | from |
//! |---|---|
//! | `date` | `MedicationRequest.authoredOn` (its date), else today |
//! | `drug.varenr` | a coding with system `urn:legemiddel:fest:varenr` (a FEST varenummer): the rest of the drug from the catalogue in force |
//! | (the medicine) | `medicationCodeableConcept`, or the `code` of the `Medication` that `medicationReference` names — contained (`#id`) or in the `draftOrders` Bundle (by `fullUrl` or `Medication/{id}`) |
//! | `drug.atc` | that concept's coding with system `http://www.whocc.no/atc` |
//! | `drug.substance` | that coding's `display`, else `medicationCodeableConcept.text` |
//! | `drug.brand` | `medicationCodeableConcept.text`, when it differs from the substance |
//! | `use.on_label` | `false` when `MedicationRequest.reasonCode.text` is `off-label` (extension point; else default) |
//! | `prescriber.role` | prefetched `practitionerRole`: `code.coding.code` by [`PRESCRIBER_ROLE_CODES`]; else the token's `prescriber_role`; else **412** |
//! | `patient.age` | prefetched `patient.birthDate`, in whole years on `date` |
//! | `patient.id` | `patient.identifier.system`: `urn:oid:2.16.578.1.12.4.1.4.1` fnr, `…4.2` D-number, else `none` |
//! | `started_in` | `specialist` for hospital doctors and specialists, else `primary` |
//!
//! Without the `patient` prefetch — or with an `OperationOutcome` or `null` in its place, which
//! is how a client says it could not fetch it — the service answers **412** naming it (it has no
//! FHIR client to fetch it itself). `order-select` decides the orders in `context.selections`
//! only; `order-sign` every draft order. A medicine coded in neither ATC nor FEST (RxNorm, say)
//! gets a `warning` card saying it cannot be decided, not a refusal of the whole hook.
//!
//! Suggestions: an unblocked blue or H-prescription is offered as an `update` of the draft
//! `MedicationRequest` that adds its refund basis (Volven 7427, as e-resept's `RefHjemmel`) to
//! `category`.
//!
//! Conformance (CDS Hooks 2.0): every card and suggestion has a random UUID; a card with
//! suggestions says `selectionBehavior`; empty lists are left out; a summary names the medicine
//! and says who pays in words, never in codes.

use serde_json::{Value, json};

/// The FHIR code system for ATC.
pub const ATC_SYSTEM: &str = "http://www.whocc.no/atc";
/// The code system this service reads a FEST varenummer from (the sources name none for FHIR;
/// the discovery document and README say it): a FEST-coded order is decided on the catalogue.
pub const VARENR_SYSTEM: &str = "urn:legemiddel:fest:varenr";
/// Norwegian national identity number (fødselsnummer).
pub const FNR_SYSTEM: &str = "urn:oid:2.16.578.1.12.4.1.4.1";
/// D-number.
pub const DNR_SYSTEM: &str = "urn:oid:2.16.578.1.12.4.1.4.2";
/// The rule text the cards link to.
pub const RULE_TEXT_URL: &str = "https://lovdata.no/dokument/SF/forskrift/2007-06-28-814";

/// `PractitionerRole.code` codes → the decision's prescriber role. Our own code system (the
/// contract's values, and Norwegian words for them) and SNOMED CT's general practitioner.
pub const PRESCRIBER_ROLE_CODES: &[(&str, &str)] = &[
    ("gp", "gp"),
    ("fastlege", "gp"),
    ("62247001", "gp"), // SNOMED CT: general practitioner
    ("specialist", "specialist"),
    ("spesialist", "specialist"),
    ("avtalespesialist", "specialist"),
    ("hospital_doctor", "hospital_doctor"),
    ("sykehuslege", "hospital_doctor"),
    ("pain_clinic", "pain_clinic"),
    ("smerteklinikk", "pain_clinic"),
];

/// The discovery document (`GET /cds-services`).
pub fn discovery() -> Value {
    let prefetch = json!({
        "patient": "Patient/{{context.patientId}}",
        // CDS Hooks 2.0's token, right whether the user is a Practitioner or a PractitionerRole
        // (a client that cannot resolve it leaves the prefetch out, and the token's role is used).
        "practitionerRole": "PractitionerRole?_id={{userPractitionerRoleId}}"
    });
    let services: Vec<Value> = SERVICES
        .iter()
        .map(|&(id, hook, description)| {
            json!({
                "hook": hook, "id": id, "title": "Hvem betaler for legemidlet?",
                "description": description, "prefetch": prefetch,
            })
        })
        .collect();
    json!({ "services": services })
}

/// This service's CDS services: (service id, the hook it takes, what it does). The discovery
/// document lists them; a call to any other id is 404.
pub const SERVICES: &[(&str, &str, &str)] = &[
    (
        "legemiddel-order-select",
        "order-select",
        "Finansieringsansvar, resepttype, søknader og hindringer for legemidlet som velges (blåreseptforskriften §§ 1b–4, off-label-rammeverket).",
    ),
    (
        "legemiddel-order-sign",
        "order-sign",
        "Samme kontroll når forskrivningen signeres.",
    ),
];

/// The hook a service id takes.
pub fn hook_of(service: &str) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(id, _, _)| *id == service)
        .map(|(_, hook, _)| *hook)
}

/// Why a feedback body is not shaped as CDS Hooks 2.0's Feedback (→ 400, naming the field):
/// a non-empty `feedback` list, each with the card's UUID, `accepted` or `overridden`, and,
/// where given, `acceptedSuggestions` as a list of `{id}`, `overrideReason` as an object and
/// `outcomeTimestamp` as an RFC 3339 time.
pub fn malformed_feedback(body: &Value) -> Option<(String, &'static str)> {
    let Some(items) = body["feedback"].as_array().filter(|f| !f.is_empty()) else {
        return Some((
            "feedback".into(),
            "ventet en liste med minst én tilbakemelding",
        ));
    };
    items.iter().enumerate().find_map(|(i, f)| {
        let checks: [(bool, &str, &'static str); 5] = [
            (
                f["card"].as_str().is_some_and(is_uuid),
                "card",
                "ventet kortets uuid (8-4-4-4-12 heksadesimale tegn)",
            ),
            (
                matches!(f["outcome"].as_str(), Some("accepted" | "overridden")),
                "outcome",
                "ventet accepted eller overridden",
            ),
            (
                f.get("acceptedSuggestions").is_none_or(|a| {
                    a.as_array()
                        .is_some_and(|a| a.iter().all(|s| s["id"].is_string()))
                }),
                "acceptedSuggestions",
                "ventet en liste av forslag, hvert med id",
            ),
            (
                f.get("overrideReason").is_none_or(Value::is_object),
                "overrideReason",
                "ventet et objekt (reason, userComment)",
            ),
            (
                f.get("outcomeTimestamp").is_none_or(|t| {
                    t.as_str()
                        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
                }),
                "outcomeTimestamp",
                "ventet et tidspunkt etter RFC 3339, f.eks. 2026-12-01T10:00:00Z",
            ),
        ];
        checks
            .into_iter()
            .find(|(ok, _, _)| !ok)
            .map(|(_, field, message)| (format!("feedback[{i}].{field}"), message))
    })
}

/// What a hook request lacks for a decision (→ 412).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

/// A draft `MedicationRequest` of the hook and what it maps to.
pub struct Order<'a> {
    /// The `MedicationRequest` as the record system sent it.
    pub resource: &'a Value,
    /// The decision request (contract JSON), or why this order cannot be decided — a medicine
    /// coded only in a system this service does not read (RxNorm, say) gets a card saying so,
    /// not a refusal of the whole hook.
    pub request: Result<Value, Undecidable>,
}

/// An order that cannot be decided: the medicine as the order names it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecidable {
    /// The medicine's name as the order gives it.
    pub medicine: String,
    /// Why, in Norwegian.
    pub reason: String,
}

/// Why a hook request is not shaped as CDS Hooks 2.0 requires (→ 400, naming the field):
/// `hookInstance`, `context.userId` and `context.patientId` are text, `draftOrders` is a Bundle
/// with a list of entries, `selections` a list of texts, `prefetch` an object of resources (or
/// null where the client could not fetch one). What is shaped right but missing for a decision
/// is [`Missing`] instead (→ 412).
pub fn malformed(hook: &Value) -> Option<(&'static str, &'static str)> {
    let context = &hook["context"];
    let orders = &context["draftOrders"];
    let checks: [(bool, &str, &str); 8] = [
        (
            hook["hookInstance"].as_str().is_some_and(|s| !s.is_empty()),
            "hookInstance",
            "ventet tekst (kallets id)",
        ),
        (context.is_object(), "context", "ventet et objekt"),
        (
            context["userId"].as_str().is_some_and(|s| !s.is_empty()),
            "context.userId",
            "ventet tekst, f.eks. PractitionerRole/123",
        ),
        (
            context["patientId"].as_str().is_some_and(|s| !s.is_empty()),
            "context.patientId",
            "ventet tekst (Patient.id)",
        ),
        (
            orders.is_null()
                || (orders["resourceType"] == "Bundle"
                    && (orders["entry"].is_null() || orders["entry"].is_array())),
            "context.draftOrders",
            "ventet en FHIR Bundle med en liste av entry",
        ),
        (
            context["selections"].is_null()
                || context["selections"]
                    .as_array()
                    .is_some_and(|s| s.iter().all(Value::is_string)),
            "context.selections",
            "ventet en liste av tekster, f.eks. MedicationRequest/103",
        ),
        (
            hook["prefetch"].is_null() || hook["prefetch"].is_object(),
            "prefetch",
            "ventet et objekt",
        ),
        (
            hook["prefetch"].as_object().is_none_or(|p| {
                p.values()
                    .all(|r| r.is_null() || r["resourceType"].is_string())
            }),
            "prefetch",
            "ventet FHIR-ressurser (eller null) under hver nøkkel",
        ),
    ];
    checks
        .into_iter()
        .find(|(ok, _, _)| !ok)
        .map(|(_, field, message)| (field, message))
}

/// The draft `MedicationRequest`s the hook asks about, each mapped to a decision request:
/// `order-select` the ones in `context.selections`, `order-sign` every one. Other draft orders
/// (a `NutritionOrder`, a `ServiceRequest`) are context, not questions for this service.
pub fn orders<'a>(
    hook: &'a Value,
    token_prescriber_role: Option<&str>,
    today: &str,
) -> Result<Vec<Order<'a>>, Missing> {
    let entries: &[Value] = hook["context"]["draftOrders"]["entry"]
        .as_array()
        .map_or(&[], Vec::as_slice);
    let mut orders: Vec<&Value> = entries
        .iter()
        .map(|x| &x["resource"])
        .filter(|r| r["resourceType"] == "MedicationRequest")
        .collect();
    if hook["hook"] == "order-select" {
        // Only what the doctor has selected (`context.selections`: "MedicationRequest/{id}").
        let selections: Vec<&str> = hook["context"]["selections"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if selections.is_empty() {
            return Err(Missing(
                "context.selections: order-select må si hvilke forskrivninger som er valgt".into(),
            ));
        }
        orders.retain(|o| {
            o["id"]
                .as_str()
                .is_some_and(|id| selections.contains(&format!("MedicationRequest/{id}").as_str()))
        });
    }
    if orders.is_empty() {
        return Err(Missing(
            "context.draftOrders: ingen (valgt) MedicationRequest".into(),
        ));
    }
    let patient = &hook["prefetch"]["patient"];
    if patient["resourceType"] != "Patient" {
        return Err(Missing(
            "prefetch.patient: pasienten (Patient) mangler (et OperationOutcome eller null er ingen pasient)".into(),
        ));
    }
    let role = prescriber_role(&hook["prefetch"]["practitionerRole"])
        .or_else(|| token_prescriber_role.map(str::to_string))
        .ok_or_else(|| Missing("prefetch.practitionerRole (eller tokenets prescriber_role): forskriverens rolle mangler".into()))?;
    Ok(orders
        .into_iter()
        .map(|order| Order {
            resource: order,
            request: one_request(order, entries, patient, &role, today),
        })
        .collect())
}

/// The medicine of an order: `medicationCodeableConcept`, or the `code` of the `Medication`
/// that `medicationReference` points to — contained (`#id`) or in the draft-orders Bundle.
fn medication<'a>(order: &'a Value, entries: &'a [Value]) -> &'a Value {
    if order["medicationCodeableConcept"].is_object() {
        return &order["medicationCodeableConcept"];
    }
    let Some(reference) = order["medicationReference"]["reference"].as_str() else {
        return &Value::Null;
    };
    let is_it = |m: &&Value| m["resourceType"] == "Medication";
    let found = match reference.strip_prefix('#') {
        Some(local) => order["contained"]
            .as_array()
            .and_then(|c| c.iter().filter(is_it).find(|m| m["id"] == local)),
        None => entries
            .iter()
            .find(|e| e["fullUrl"] == reference)
            .map(|e| &e["resource"])
            .filter(is_it)
            .or_else(|| {
                entries
                    .iter()
                    .map(|e| &e["resource"])
                    .filter(is_it)
                    .find(|m| {
                        m["id"]
                            .as_str()
                            .is_some_and(|id| reference == format!("Medication/{id}"))
                    })
            }),
    };
    found.map_or(&Value::Null, |m| &m["code"])
}

fn one_request(
    order: &Value,
    entries: &[Value],
    patient: &Value,
    role: &str,
    today: &str,
) -> Result<Value, Undecidable> {
    let concept = medication(order, entries);
    let coding = |system: &str| {
        concept["coding"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["system"] == system))
    };
    let date = order["authoredOn"]
        .as_str()
        .map(|d| d.chars().take(10).collect::<String>())
        .unwrap_or_else(|| today.to_string());
    let text = concept["text"].as_str();
    let drug = match (coding(VARENR_SYSTEM), coding(ATC_SYSTEM)) {
        // FEST-coded: the package, completed from the catalogue when decided.
        (Some(v), _) => json!({ "varenr": v["code"].as_str().unwrap_or_default() }),
        (None, Some(atc_coding)) => {
            let atc = atc_coding["code"].as_str().unwrap_or_default();
            let substance = atc_coding["display"].as_str().or(text).unwrap_or_default();
            let mut drug = json!({ "atc": atc, "substance": substance });
            if let Some(brand) = text.filter(|t| !t.eq_ignore_ascii_case(substance)) {
                drug["brand"] = json!(brand);
            }
            drug
        }
        (None, None) => {
            let named = text
                .or_else(|| concept["coding"][0]["display"].as_str())
                .unwrap_or("legemidlet");
            return Err(Undecidable {
                medicine: capitalised(named),
                reason: if concept.is_null() {
                    "forskrivningen sier ikke hvilket legemiddel det gjelder (medicationCodeableConcept eller en Medication som medicationReference peker på)".into()
                } else {
                    "legemidlet er ikke kodet med ATC eller FEST-varenummer, så det kan ikke avgjøres hvem som betaler".into()
                },
            });
        }
    };
    let mut request = json!({
        "date": date,
        "drug": drug,
        "prescriber": { "role": role },
        "started_in": if matches!(role, "hospital_doctor" | "specialist") { "specialist" } else { "primary" },
        "patient": { "id": patient_id(patient) },
    });
    if let Some(age) = age(patient["birthDate"].as_str(), &date) {
        request["patient"]["age"] = json!(age);
    }
    if order["reasonCode"]
        .as_array()
        .is_some_and(|r| r.iter().any(|c| c["text"] == "off-label"))
    {
        request["use"] = json!({ "on_label": false });
    }
    Ok(request)
}

/// The prescriber's role from a prefetched `PractitionerRole` (or a Bundle of them).
fn prescriber_role(prefetched: &Value) -> Option<String> {
    let roles: Vec<&Value> = match prefetched["resourceType"].as_str() {
        Some("Bundle") => prefetched["entry"]
            .as_array()
            .map(|e| e.iter().map(|x| &x["resource"]).collect())
            .unwrap_or_default(),
        Some("PractitionerRole") => vec![prefetched],
        _ => return None,
    };
    roles
        .iter()
        .flat_map(|r| r["code"].as_array().into_iter().flatten())
        .flat_map(|c| c["coding"].as_array().into_iter().flatten())
        .find_map(|coding| {
            let code = coding["code"].as_str()?;
            PRESCRIBER_ROLE_CODES
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(code))
                .map(|(_, r)| r.to_string())
        })
}

fn patient_id(patient: &Value) -> &'static str {
    let systems: Vec<&str> = patient["identifier"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|i| i["system"].as_str()).collect())
        .unwrap_or_default();
    if systems.contains(&FNR_SYSTEM) {
        "fnr"
    } else if systems.contains(&DNR_SYSTEM) {
        "dnr"
    } else {
        "none"
    }
}

/// Whole years from `birth` to `on` (both `YYYY-MM-DD`).
fn age(birth: Option<&str>, on: &str) -> Option<u32> {
    let b = domain::Date::parse(birth?.get(..10)?).ok()?;
    let d = domain::Date::parse(on).ok()?;
    d.years_since(b)
}

/// A random (version 4) UUID, as CDS Hooks asks of every card and suggestion.
pub fn uuid() -> String {
    let n = (rand::random::<u128>() & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Whether `text` is a UUID as CDS Hooks writes them: 8-4-4-4-12 hexadecimal digits.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The medicine of a decision request, as people name it: the brand, else the substance.
pub fn medicine_name(request: &Value) -> String {
    let drug = &request["drug"];
    capitalised(
        drug["brand"]
            .as_str()
            .or(drug["substance"].as_str())
            .unwrap_or("legemidlet"),
    )
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn source() -> Value {
    json!({ "label": "legemiddel – finansieringsregler for legemidler", "url": RULE_TEXT_URL })
}

/// The card for an order that cannot be decided: the doctor learns that this service has no
/// answer for it and why, instead of the whole hook failing.
pub fn undecidable_card(u: &Undecidable) -> Value {
    json!({
        "uuid": uuid(),
        "summary": short(&format!("{}: kan ikke avgjøre hvem som betaler", u.medicine)),
        "indicator": "warning",
        "detail": format!("{}.", capitalised(&u.reason)),
        "source": source(),
    })
}

/// Cards for one decision (contract JSON) about `medicine`, ordered in `order` (the draft
/// `MedicationRequest`): who pays (`info`), each blocker (`warning`), each action (`info`),
/// with a suggestion where one applies.
pub fn cards(decision: &Value, medicine: &str, order: &Value) -> Vec<Value> {
    let mut card_source = source();
    card_source["topic"] = json!({ "system": "urn:legemiddel:rule-set", "code": decision["rule_set"], "display": decision["rule_set"] });
    let why: Vec<String> = decision["explanation"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["applied"] == true)
        .map(|s| {
            format!(
                "- **{}**: {}",
                s["rule"].as_str().unwrap_or(""),
                s["text"].as_str().unwrap_or("")
            )
        })
        .collect();
    let citations: Vec<&str> = decision["citations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut first = json!({
        "uuid": uuid(),
        "summary": short(&format!("{medicine}: {} betaler – {}", code(decision, "payer", domain::Payer::from_code, domain::Payer::describe),
            code(decision, "prescription", domain::Prescription::from_code, domain::Prescription::describe))),
        "indicator": "info",
        "detail": format!("{}\n\nHjemmel: {}", why.join("\n"), citations.join("; ")),
        "source": card_source,
    });
    let offered = suggestions(decision, order);
    if !offered.is_empty() {
        first["suggestions"] = json!(offered);
        first["selectionBehavior"] = json!("at-most-one");
    }
    let mut cards = vec![first];
    for b in decision["blockers"].as_array().into_iter().flatten() {
        cards.push(json!({
            "uuid": uuid(),
            "summary": short(&format!("{medicine}: {}", b["message"].as_str().unwrap_or(""))),
            "indicator": "warning",
            "detail": b["message"],
            "source": card_source,
        }));
    }
    for a in decision["actions"].as_array().into_iter().flatten() {
        let who = a["applicant"]
            .as_str()
            .and_then(domain::Applicant::from_code)
            .map(|ap| format!(" (søker: {})", ap.describe()))
            .unwrap_or_default();
        cards.push(json!({
            "uuid": uuid(),
            "summary": short(&format!("{medicine}: først {}{who}", code(a, "kind", domain::ActionKind::from_code, domain::ActionKind::describe))),
            "indicator": "info",
            "source": card_source,
        }));
    }
    cards
}

/// What the doctor may accept with one click. An unblocked blue or H-prescription comes with
/// an `update` of the draft order that marks it with its refund basis (Volven 7427, the code
/// system e-resept's `RefHjemmel` uses) as a `MedicationRequest.category` — a coding FHIR R4
/// allows there, since that element's binding is an example only. A blocked path, or one with
/// an application still to make (§ 3: "innvilges søknaden, skrives legemidlet på blå resept"),
/// is offered nothing: there is no prescription to write yet.
fn suggestions(decision: &Value, order: &Value) -> Vec<Value> {
    let any = |field: &str| decision[field].as_array().is_some_and(|l| !l.is_empty());
    if any("blockers") || any("actions") {
        return vec![];
    }
    let basis = decision["scheme"]
        .as_str()
        .and_then(domain::Scheme::from_code)
        .and_then(domain::Scheme::refund_basis);
    let label = match (decision["prescription"].as_str(), basis) {
        (Some("h"), _) => "Skriv som H-resept".to_string(),
        (Some("blue"), Some(b)) => format!("Skriv på blå resept etter {}", b.describe()),
        (Some("white_note"), _) => {
            return vec![json!({
                "label": "Skriv e-resept uten refusjon med merknad om betalende helseforetak",
                "uuid": uuid(),
            })];
        }
        _ => return vec![],
    };
    let mut suggestion = json!({ "label": label, "uuid": uuid(), "isRecommended": true });
    if let (Some(basis), Some(_)) = (basis, order["id"].as_str()) {
        suggestion["actions"] = json!([{
            "type": "update",
            "description": format!("Marker forskrivningen med refusjonshjemmel {} (Volven 7427: {})", basis.describe(), basis.code()),
            "resource": with_refund_basis(order, basis),
        }]);
    }
    vec![suggestion]
}

/// The draft order with `basis` as its one refund-basis category (other categories kept).
fn with_refund_basis(order: &Value, basis: domain::RefundBasis) -> Value {
    let system = format!("urn:oid:{}", domain::RefundBasis::OID);
    let mut updated = order.clone();
    let mut categories: Vec<Value> = updated["category"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| {
            !c["coding"]
                .as_array()
                .is_some_and(|codings| codings.iter().any(|x| x["system"] == system.as_str()))
        })
        .collect();
    categories.push(json!({
        "coding": [{ "system": system, "code": basis.code(), "display": basis.describe() }],
        "text": format!("Refusjonshjemmel {}", basis.describe()),
    }));
    updated["category"] = Value::Array(categories);
    updated
}

/// CDS Hooks requires a summary under 140 characters.
fn short(text: &str) -> String {
    if text.chars().count() < 140 {
        text.to_string()
    } else {
        let cut: String = text.chars().take(136).collect();
        format!("{cut} …")
    }
}

/// The Norwegian name of a coded field of a decision (the vocabulary's own `describe`).
fn code<T>(
    v: &Value,
    field: &str,
    parse: fn(&str) -> Option<T>,
    describe: fn(T) -> &'static str,
) -> &'static str {
    v[field].as_str().and_then(parse).map_or("", describe)
}
