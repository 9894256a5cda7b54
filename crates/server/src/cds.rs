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
//! | `drug.atc` | `medicationCodeableConcept.coding` with system `http://www.whocc.no/atc` |
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
//! only; `order-sign` every draft order.
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
    json!({ "services": [
        {
            "hook": "order-select", "id": "legemiddel-order-select", "title": "Hvem betaler for legemidlet?",
            "description": "Finansieringsansvar, resepttype, søknader og hindringer for legemidlet som velges (blåreseptforskriften §§ 1b–4, off-label-rammeverket).",
            "prefetch": prefetch
        },
        {
            "hook": "order-sign", "id": "legemiddel-order-sign", "title": "Hvem betaler for legemidlet?",
            "description": "Samme kontroll når forskrivningen signeres.",
            "prefetch": prefetch
        }
    ]})
}

/// What a hook request lacks for a decision (→ 412).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

/// Decision requests (contract JSON) for every `MedicationRequest` in `context.draftOrders`.
pub fn decision_requests(
    hook: &Value,
    token_prescriber_role: Option<&str>,
    today: &str,
) -> Result<Vec<Value>, Missing> {
    let mut orders: Vec<&Value> = hook["context"]["draftOrders"]["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| &x["resource"])
                .filter(|r| r["resourceType"] == "MedicationRequest")
                .collect()
        })
        .unwrap_or_default();
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
    orders
        .into_iter()
        .map(|order| one_request(order, patient, &role, today))
        .collect()
}

fn one_request(order: &Value, patient: &Value, role: &str, today: &str) -> Result<Value, Missing> {
    let concept = &order["medicationCodeableConcept"];
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
            return Err(Missing(format!(
                "MedicationRequest.medicationCodeableConcept: ingen ATC-koding ({ATC_SYSTEM}) eller FEST-varenummer ({VARENR_SYSTEM})"
            )));
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

/// The medicine of a decision request, as people name it: the brand, else the substance.
pub fn medicine_name(request: &Value) -> String {
    let drug = &request["drug"];
    let name = drug["brand"]
        .as_str()
        .or(drug["substance"].as_str())
        .unwrap_or("legemidlet");
    let mut chars = name.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Cards for one decision (contract JSON) about `medicine`: who pays (`info`), each blocker
/// (`warning`), each action (`info`), with a suggestion where one is obvious.
pub fn cards(decision: &Value, medicine: &str) -> Vec<Value> {
    let source = json!({ "label": "legemiddel – finansieringsregler for legemidler", "url": RULE_TEXT_URL, "topic": {
        "system": "urn:legemiddel:rule-set", "code": decision["rule_set"], "display": decision["rule_set"] } });
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
        "source": source,
    });
    let offered = suggestions(decision);
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
            "source": source,
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
            "source": source,
        }));
    }
    cards
}

fn suggestions(decision: &Value) -> Vec<Value> {
    match decision["prescription"].as_str() {
        Some("h") => {
            vec![json!({ "label": "Skriv som H-resept", "uuid": uuid(), "isRecommended": true })]
        }
        Some("white_note") => vec![
            json!({ "label": "Skriv e-resept uten refusjon med merknad om betalende helseforetak", "uuid": uuid() }),
        ],
        _ => vec![],
    }
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
