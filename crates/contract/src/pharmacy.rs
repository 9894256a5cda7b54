//! Pharmacy contract v1 (`shared/contract/pharmacy-v1.md`): a dispensing as JSON, read as
//! strictly as the decision contract — unknown fields, unknown codes, bad dates, bad check
//! digits are errors naming the field.
//!
//! The wire structs below are also the API document's schema of a dispensing (schemars): the
//! bounds and codes written beside each field are the ones [`parse_dispensing`] checks, taken
//! from the same tables.

use std::borrow::Cow;

use dispense::pharmacy::{
    ApprovalExemption, Dispensing, Pharmacy, PharmacyPatient, Prescriber, Prescription,
    Reservation, RxForm, Substitution,
};
use domain::identity::PersonId;
use domain::{Date, PatientId, PrescriberRole, RefundCode};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::ContractError;
use crate::request::{Object, object};

/// A dispensing registered at a pharmacy (`POST /api/v1/pharmacy/dispensings`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PharmacyDispensing")]
struct WireDispensing<'a> {
    /// The pharmacy's own id for this dispensing: sent again, it is registered once.
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 64), extend("pattern" = r"\S"))]
    dispensing_id: Cow<'a, str>,
    /// The day of dispensing (`YYYY-MM-DD`).
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "object")]
    pharmacy: WirePharmacy<'a>,
    #[serde(borrow, deserialize_with = "object")]
    patient: WirePatient<'a>,
    #[serde(borrow, deserialize_with = "object")]
    prescription: WirePrescription<'a>,
    #[serde(borrow, deserialize_with = "object")]
    drug: WireDrug<'a>,
    /// Packages handed out: at most three decimals (a part of a package, in thousandths).
    #[schemars(extend("minimum" = 0, "exclusiveMinimum" = true, "maximum" = MAX_PACKAGES))]
    packages: f64,
    #[serde(default, borrow, deserialize_with = "object")]
    substitution: WireSubstitution<'a>,
    /// Addition to v1: the days the dispensing lasts at the prescribed dosage; on a blue
    /// prescription at most three months (rules/dispensing.toml).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = MAX_SUPPLY_DAYS))]
    supply_days: Option<f64>,
    #[serde(default, borrow)]
    approval_exemption: Option<WireExemption<'a>>,
}

/// The most packages one dispensing takes.
const MAX_PACKAGES: f64 = 1000.0;
/// The longest supply one dispensing may state, in days (ten years: a bound on input, not a
/// rule; the rules' own limits are in the rule data).
const MAX_SUPPLY_DAYS: u32 = 3660;
/// The largest daily dose read, in the dose's unit (a bound on input, not a rule).
const MAX_DOSE: f64 = 100_000.0;
/// The largest daily dose in mg OMEQ read.
const MAX_OMEQ: f64 = 10_000.0;

/// A daily dose from its amount, in one unit.
type DoseIn = fn(f64) -> ruleset::Dose;
/// An approval exemption from its reference, of one kind.
type ExemptionOf = fn(String) -> ApprovalExemption;

/// How a daily dose is stated (`prescription.daily_dose.unit`): per day, or per hour for a
/// patch.
const DOSE_UNITS: [(DoseIn, &str); 2] = [
    (ruleset::Dose::MgPerDay, "mg_per_day"),
    (ruleset::Dose::UgPerHour, "ug_per_hour"),
];

/// The kinds of approval exemption (G1).
const EXEMPTION_KINDS: [(ExemptionOf, &str); 2] = [
    (
        |reference| ApprovalExemption::Notification { reference },
        "notification",
    ),
    (
        |reference| ApprovalExemption::DmpApproval { reference },
        "dmp_approval",
    ),
];

/// The codes of a table, for the schema's `enum`.
fn codes<T>(all: &[(T, &'static str)]) -> Vec<&'static str> {
    all.iter().map(|(_, c)| *c).collect()
}

/// Addition to v1: the approval exemption the pharmacy holds for an unregistered medicine (G1):
/// a notification where FEST says «Apotek vurderer», DMP's approval where it says «Må søkes».
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireExemption<'a> {
    #[serde(borrow)]
    #[schemars(extend("enum" = codes(&EXEMPTION_KINDS)))]
    kind: Cow<'a, str>,
    /// The notification's or approval's reference.
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 64), extend("pattern" = r"\S"))]
    reference: Cow<'a, str>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePharmacy<'a> {
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 64), extend("pattern" = r"\S"))]
    id: Cow<'a, str>,
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 200), extend("pattern" = r"\S"))]
    name: Cow<'a, str>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePatient<'a> {
    #[serde(borrow)]
    #[schemars(extend("enum" = PatientId::CODES))]
    id_kind: Cow<'a, str>,
    /// The national identity or D-number (11 digits, check digits checked); left out when
    /// `id_kind` is `none`.
    #[serde(default, borrow)]
    #[schemars(extend("pattern" = "^[0-9]{11}$"))]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    birth_date: Cow<'a, str>,
    /// Addition to v1: the municipality number of residence; it decides the trust and the
    /// regional health authority that pay an H-prescription (rules/trusts.toml).
    #[serde(default, borrow)]
    #[schemars(extend("pattern" = "^[0-9]{4}$"))]
    municipality: Option<Cow<'a, str>>,
    /// Addition to v1: a minimum pensioner pays no co-payment (§ 8).
    #[serde(default)]
    minimum_pensioner: bool,
    /// E4: the prioritised patient group the patient belongs to, as a restriction in force
    /// names it (e.g. «barn»).
    #[serde(default, borrow)]
    #[schemars(length(max = 64))]
    priority_group: Option<Cow<'a, str>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePrescription<'a> {
    /// The prescription's id (the e-prescription's).
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 64), extend("pattern" = r"\S"))]
    id: Cow<'a, str>,
    #[serde(borrow)]
    #[schemars(extend("enum" = codes(&RxForm::ALL)))]
    form: Cow<'a, str>,
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    issued: Cow<'a, str>,
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    valid_until: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "object")]
    prescriber: WirePrescriber<'a>,
    /// The refund code (ICPC-2, ICD-10 or a refund list code); only on a blue or
    /// H-prescription.
    #[serde(default, borrow)]
    refund_code: Option<Cow<'a, str>>,
    /// The trust of the note (`white_note` only): its name or id in the trust register
    /// (rules/trusts.toml); an unknown trust is 422.
    #[serde(default, borrow)]
    #[schemars(length(min = 1, max = 200), extend("pattern" = r"\S"))]
    paying_trust: Option<Cow<'a, str>>,
    /// Why the prescriber reserved against substitution, or `none`.
    #[serde(default, borrow)]
    #[schemars(extend("enum" = reservation_codes()))]
    reserved_against_substitution: Option<Cow<'a, str>>,
    /// The daily dose in mg oral morphine equivalents.
    #[serde(default)]
    #[schemars(extend("minimum" = 0, "exclusiveMinimum" = true, "maximum" = MAX_OMEQ))]
    daily_dose_omeq: Option<f64>,
    #[serde(default, borrow)]
    daily_dose: Option<WireDose<'a>>,
    /// Addition to v1: an approved occupational injury; no co-payment (§ 8).
    #[serde(default)]
    occupational_injury: bool,
}

/// `none`, then the reasons of [`Reservation::ALL`].
fn reservation_codes() -> Vec<&'static str> {
    std::iter::once("none")
        .chain(codes(&Reservation::ALL))
        .collect()
}

/// Addition to v1: the prescribed daily dose of the substance (opioids), converted to mg OMEQ
/// by rules/omeq.toml.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireDose<'a> {
    #[schemars(extend("minimum" = 0, "exclusiveMinimum" = true, "maximum" = MAX_DOSE))]
    amount: f64,
    #[serde(borrow)]
    #[schemars(extend("enum" = codes(&DOSE_UNITS)))]
    unit: Cow<'a, str>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePrescriber<'a> {
    /// The prescriber's number in the health personnel register (HPR).
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 16), extend("pattern" = r"\S"))]
    hpr: Cow<'a, str>,
    #[serde(borrow)]
    #[schemars(length(min = 1, max = 200), extend("pattern" = r"\S"))]
    name: Cow<'a, str>,
    #[serde(borrow)]
    #[schemars(extend("enum" = PrescriberRole::CODES))]
    role: Cow<'a, str>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireDrug<'a> {
    /// The package's varenummer in FEST (six digits, leading zeros kept).
    #[serde(borrow)]
    #[schemars(extend("pattern" = VARENR_PATTERN))]
    varenr: Cow<'a, str>,
}

/// A varenummer: six digits.
const VARENR_PATTERN: &str = "^[0-9]{6}$";

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireSubstitution<'a> {
    /// The package offered instead (generic substitution), if any.
    #[serde(default, borrow)]
    #[schemars(extend("pattern" = VARENR_PATTERN))]
    offered_varenr: Option<Cow<'a, str>>,
    #[serde(default)]
    patient_refused: bool,
}

/// The JSON Schema of a dispensing, made from the structs [`parse_dispensing`] reads it with.
pub fn dispensing_schema() -> serde_json::Value {
    crate::schema_of::<WireDispensing>()
}

fn date(field: &str, text: &str) -> Result<Date, ContractError> {
    Date::parse(text).map_err(|e| ContractError::new(field, e.to_string()))
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ContractError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ContractError::new(
            field,
            format!("ventet tekst på 1–{max} tegn"),
        ));
    }
    Ok(v.to_string())
}

fn varenr(field: &str, value: &str) -> Result<String, ContractError> {
    let v = value.trim();
    if v.len() != 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ContractError::new(
            field,
            "ventet et varenummer: seks sifre (med ledende nuller)",
        ));
    }
    Ok(v.to_string())
}

fn one_of<T: Copy>(field: &str, value: &str, all: &[(T, &str)]) -> Result<T, ContractError> {
    all.iter()
        .find(|(_, c)| *c == value)
        .map(|(t, _)| *t)
        .ok_or_else(|| {
            let codes: Vec<&str> = all.iter().map(|(_, c)| *c).collect();
            ContractError::new(
                field,
                format!("ukjent verdi «{value}»; ventet en av: {}", codes.join(", ")),
            )
        })
}

/// A value of a coded enum (`domain::coded_enum!`), or an error listing its codes.
fn coded<T>(
    field: &str,
    value: &str,
    from_code: fn(&str) -> Option<T>,
    codes: &[&str],
) -> Result<T, ContractError> {
    from_code(value).ok_or_else(|| {
        ContractError::new(
            field,
            format!("ukjent verdi «{value}»; ventet en av: {}", codes.join(", ")),
        )
    })
}

/// Reads a dispensing (`POST /api/v1/pharmacy/dispensings`).
pub fn parse_dispensing(json: &[u8]) -> Result<Dispensing, ContractError> {
    let Object::<WireDispensing>(w) = crate::error::from_json(json)?;
    let id_kind = coded(
        "patient.id_kind",
        &w.patient.id_kind,
        PatientId::from_code,
        PatientId::CODES,
    )?;
    let id = match (id_kind, &w.patient.id) {
        (PatientId::None, None) => None,
        (PatientId::None, Some(_)) => {
            return Err(ContractError::new(
                "patient.id",
                "id_kind er «none»: send ikke noe nummer",
            ));
        }
        (_, None) => {
            return Err(ContractError::new(
                "patient.id",
                "påkrevd felt mangler: fødselsnummer eller D-nummer (11 sifre)",
            ));
        }
        (kind, Some(text)) => {
            Some(PersonId::parse(text, kind).map_err(|m| ContractError::new("patient.id", m))?)
        }
    };
    let form = one_of("prescription.form", &w.prescription.form, &RxForm::ALL)?;
    let reservation = match w.prescription.reserved_against_substitution.as_deref() {
        None | Some("none") => None,
        Some(code) => Some(one_of(
            "prescription.reserved_against_substitution",
            code,
            &Reservation::ALL,
        )?),
    };
    let role = coded(
        "prescription.prescriber.role",
        &w.prescription.prescriber.role,
        PrescriberRole::from_code,
        PrescriberRole::CODES,
    )?;
    let refund_code = w
        .prescription
        .refund_code
        .as_deref()
        .map(|c| {
            RefundCode::parse(c).map_err(|m| ContractError::new("prescription.refund_code", m))
        })
        .transpose()?;
    if refund_code.is_some() && matches!(form, RxForm::White | RxForm::WhiteNote) {
        return Err(ContractError::new(
            "prescription.refund_code",
            "en hvit resept har ingen refusjonskode",
        ));
    }
    let paying_trust = w
        .prescription
        .paying_trust
        .as_deref()
        .map(|t| text("prescription.paying_trust", t, 200))
        .transpose()?;
    if paying_trust.is_some() && form != RxForm::WhiteNote {
        return Err(ContractError::new(
            "prescription.paying_trust",
            "bare en hvit resept med merknad (white_note) navngir helseforetaket som betaler",
        ));
    }
    if let Some(d) = w.prescription.daily_dose_omeq
        && !(d.is_finite() && d > 0.0 && d <= MAX_OMEQ)
    {
        return Err(ContractError::new(
            "prescription.daily_dose_omeq",
            "ventet mg OMEQ per døgn: et tall over 0",
        ));
    }
    let daily_dose = match &w.prescription.daily_dose {
        None => None,
        Some(dose) => {
            if !(dose.amount.is_finite() && dose.amount > 0.0 && dose.amount <= MAX_DOSE) {
                return Err(ContractError::new(
                    "prescription.daily_dose.amount",
                    "ventet døgndosen: et tall over 0",
                ));
            }
            let unit = one_of("prescription.daily_dose.unit", &dose.unit, &DOSE_UNITS)?;
            Some(unit(dose.amount))
        }
    };
    let municipality = match w.patient.municipality.as_deref() {
        None => None,
        Some(m) if m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()) => Some(m.to_string()),
        Some(_) => {
            return Err(ContractError::new(
                "patient.municipality",
                "ventet kommunenummer: fire sifre (f.eks. 4601)",
            ));
        }
    };
    let supply_days = match w.supply_days {
        None => None,
        Some(d) if d.fract() == 0.0 && (1.0..=f64::from(MAX_SUPPLY_DAYS)).contains(&d) => {
            Some(d as u32)
        }
        Some(_) => {
            return Err(ContractError::new(
                "supply_days",
                "ventet antall dager utleveringen varer: et helt tall fra 1",
            ));
        }
    };
    let approval_exemption = match &w.approval_exemption {
        None => None,
        Some(e) => {
            let reference = text("approval_exemption.reference", &e.reference, 64)?;
            let kind = one_of("approval_exemption.kind", &e.kind, &EXEMPTION_KINDS)?;
            Some(kind(reference))
        }
    };
    if !(w.packages.is_finite() && w.packages > 0.0 && w.packages <= MAX_PACKAGES) {
        return Err(ContractError::new(
            "packages",
            "ventet antall pakninger: et tall over 0 (høyst 1000)",
        ));
    }
    let milli = (w.packages * 1000.0).round();
    if (milli - w.packages * 1000.0).abs() > 1e-6 || milli < 1.0 {
        return Err(ContractError::new(
            "packages",
            "høyst tre desimaler (tusendels pakninger)",
        ));
    }
    let offered_varenr = w
        .substitution
        .offered_varenr
        .as_deref()
        .map(|v| varenr("substitution.offered_varenr", v))
        .transpose()?;
    Ok(Dispensing {
        id: text("dispensing_id", &w.dispensing_id, 64)?,
        date: date("date", &w.date)?,
        pharmacy: Pharmacy {
            id: text("pharmacy.id", &w.pharmacy.id, 64)?,
            name: text("pharmacy.name", &w.pharmacy.name, 200)?,
        },
        patient: PharmacyPatient {
            id_kind,
            id,
            birth_date: date("patient.birth_date", &w.patient.birth_date)?,
            municipality,
            minimum_pensioner: w.patient.minimum_pensioner,
            priority_group: match w.patient.priority_group.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(g) => Some(text("patient.priority_group", g, 64)?),
            },
        },
        prescription: Prescription {
            id: text("prescription.id", &w.prescription.id, 64)?,
            form,
            issued: date("prescription.issued", &w.prescription.issued)?,
            valid_until: date("prescription.valid_until", &w.prescription.valid_until)?,
            prescriber: Prescriber {
                hpr: text(
                    "prescription.prescriber.hpr",
                    &w.prescription.prescriber.hpr,
                    16,
                )?,
                name: text(
                    "prescription.prescriber.name",
                    &w.prescription.prescriber.name,
                    200,
                )?,
                role,
            },
            refund_code,
            paying_trust,
            reservation,
            daily_dose_omeq: w.prescription.daily_dose_omeq,
            daily_dose,
            occupational_injury: w.prescription.occupational_injury,
        },
        varenr: varenr("drug.varenr", &w.drug.varenr)?,
        milli_packages: milli as u64,
        substitution: Substitution {
            offered_varenr,
            patient_refused: w.substitution.patient_refused,
        },
        supply_days,
        approval_exemption,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> serde_json::Value {
        json!({
            "dispensing_id": "apotek1-2026-000001",
            "date": "2026-06-01",
            "pharmacy": {"id": "A1-0042", "name": "Apotek 1 Storgata"},
            "patient": {"id_kind": "fnr", "id": "13097248022", "birth_date": "1972-09-13"},
            "prescription": {
                "id": "b7f4e1c2-0000-4000-8000-000000000001", "form": "blue",
                "issued": "2026-05-20", "valid_until": "2027-05-20",
                "prescriber": {"hpr": "9144889", "name": "Kari Lege", "role": "gp"},
                "refund_code": "K86", "reserved_against_substitution": "none"
            },
            "drug": {"varenr": "108708"},
            "packages": 1,
            "substitution": {"offered_varenr": "100012", "patient_refused": false}
        })
    }

    fn field_of(v: serde_json::Value) -> String {
        parse_dispensing(v.to_string().as_bytes())
            .unwrap_err()
            .field
    }

    #[test]
    fn a_valid_dispensing_reads() {
        let d = parse_dispensing(valid().to_string().as_bytes()).unwrap();
        assert_eq!(d.milli_packages, 1000);
        assert_eq!(d.prescription.form, RxForm::Blue);
        assert_eq!(d.substitution.offered_varenr.as_deref(), Some("100012"));
    }

    #[test]
    fn bad_input_names_its_field() {
        let mut v = valid();
        v["patient"]["id"] = json!("13097248023");
        assert_eq!(field_of(v), "patient.id");
        let mut v = valid();
        v["prescription"]["form"] = json!("green");
        assert_eq!(field_of(v), "prescription.form");
        let mut v = valid();
        v["drug"]["varenr"] = json!("8708");
        assert_eq!(field_of(v), "drug.varenr");
        let mut v = valid();
        v["packages"] = json!(0);
        assert_eq!(field_of(v), "packages");
        let mut v = valid();
        v["packages"] = json!(0.0005);
        assert_eq!(field_of(v), "packages");
        let mut v = valid();
        v["prescription"]["reserved_against_substitution"] = json!("taste");
        assert_eq!(field_of(v), "prescription.reserved_against_substitution");
        let mut v = valid();
        v["extra"] = json!(1);
        assert_eq!(field_of(v), "extra");
        let mut v = valid();
        v["prescription"]["paying_trust"] = json!("Helse Bergen HF");
        assert_eq!(field_of(v), "prescription.paying_trust");
        let mut v = valid();
        v["dispensing_id"] = json!("x".repeat(65));
        assert_eq!(field_of(v), "dispensing_id");
    }

    /// The API document's codes are the parser's: each code the schema lists is read, and a
    /// code it does not list is refused, at the same field.
    #[test]
    fn the_schema_lists_the_codes_the_parser_takes() {
        let schema = dispensing_schema();
        type Set = fn(&mut serde_json::Value, &str);
        let places: [(&str, &str, Set); 4] = [
            (
                "/properties/prescription/properties/form",
                "prescription.form",
                |v, c| {
                    v["prescription"]["form"] = json!(c);
                    v["prescription"]
                        .as_object_mut()
                        .unwrap()
                        .remove("refund_code");
                },
            ),
            (
                "/properties/prescription/properties/reserved_against_substitution",
                "prescription.reserved_against_substitution",
                |v, c| v["prescription"]["reserved_against_substitution"] = json!(c),
            ),
            (
                "/properties/prescription/properties/daily_dose/properties/unit",
                "prescription.daily_dose.unit",
                |v, c| v["prescription"]["daily_dose"] = json!({"amount": 40, "unit": c}),
            ),
            (
                "/properties/approval_exemption/properties/kind",
                "approval_exemption.kind",
                |v, c| v["approval_exemption"] = json!({"kind": c, "reference": "M-1"}),
            ),
        ];
        for (pointer, field, set) in places {
            let codes = schema.pointer(&format!("{pointer}/enum")).unwrap();
            for code in codes.as_array().unwrap().iter().filter_map(|c| c.as_str()) {
                let mut v = valid();
                set(&mut v, code);
                if let Err(e) = parse_dispensing(v.to_string().as_bytes()) {
                    assert_ne!(e.field, field, "{code}: {e}");
                }
            }
            let mut v = valid();
            set(&mut v, "ukjent");
            assert_eq!(field_of(v), field);
        }
    }
}
