//! Pharmacy contract v1 (`shared/contract/pharmacy-v1.md`): a dispensing as JSON, read as
//! strictly as the decision contract — unknown fields, unknown codes, bad dates, bad check
//! digits are errors naming the field.

use std::borrow::Cow;

use dispense::pharmacy::{
    ApprovalExemption, Dispensing, Pharmacy, PharmacyPatient, Prescriber, Prescription,
    Reservation, RxForm, Substitution,
};
use domain::identity::PersonId;
use domain::{Date, PatientId, PrescriberRole, RefundCode};
use serde::Deserialize;

use crate::ContractError;
use crate::request::{Object, object};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDispensing<'a> {
    #[serde(borrow)]
    dispensing_id: Cow<'a, str>,
    #[serde(borrow)]
    date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "object")]
    pharmacy: WirePharmacy<'a>,
    #[serde(borrow, deserialize_with = "object")]
    patient: WirePatient<'a>,
    #[serde(borrow, deserialize_with = "object")]
    prescription: WirePrescription<'a>,
    #[serde(borrow, deserialize_with = "object")]
    drug: WireDrug<'a>,
    packages: f64,
    #[serde(default, borrow, deserialize_with = "object")]
    substitution: WireSubstitution<'a>,
    #[serde(default)]
    supply_days: Option<f64>,
    #[serde(default, borrow)]
    approval_exemption: Option<WireExemption<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireExemption<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    reference: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePharmacy<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePatient<'a> {
    #[serde(borrow)]
    id_kind: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    birth_date: Cow<'a, str>,
    #[serde(default, borrow)]
    municipality: Option<Cow<'a, str>>,
    #[serde(default)]
    minimum_pensioner: bool,
    #[serde(default, borrow)]
    priority_group: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePrescription<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    form: Cow<'a, str>,
    #[serde(borrow)]
    issued: Cow<'a, str>,
    #[serde(borrow)]
    valid_until: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "object")]
    prescriber: WirePrescriber<'a>,
    #[serde(default, borrow)]
    refund_code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    paying_trust: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reserved_against_substitution: Option<Cow<'a, str>>,
    #[serde(default)]
    daily_dose_omeq: Option<f64>,
    #[serde(default, borrow)]
    daily_dose: Option<WireDose<'a>>,
    #[serde(default)]
    occupational_injury: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDose<'a> {
    amount: f64,
    #[serde(borrow)]
    unit: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePrescriber<'a> {
    #[serde(borrow)]
    hpr: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    role: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDrug<'a> {
    #[serde(borrow)]
    varenr: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WireSubstitution<'a> {
    #[serde(default, borrow)]
    offered_varenr: Option<Cow<'a, str>>,
    #[serde(default)]
    patient_refused: bool,
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

/// Reads a dispensing (`POST /api/v1/pharmacy/dispensings`).
pub fn parse_dispensing(json: &[u8]) -> Result<Dispensing, ContractError> {
    let Object::<WireDispensing>(w) = crate::error::from_json(json)?;
    let id_kind = one_of(
        "patient.id_kind",
        &w.patient.id_kind,
        &[
            (PatientId::Fnr, "fnr"),
            (PatientId::Dnr, "dnr"),
            (PatientId::None, "none"),
        ],
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
    let role = PrescriberRole::from_code(&w.prescription.prescriber.role).ok_or_else(|| {
        ContractError::new(
            "prescription.prescriber.role",
            format!(
                "ukjent verdi «{}»; ventet gp, specialist, hospital_doctor eller pain_clinic",
                w.prescription.prescriber.role
            ),
        )
    })?;
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
        && !(d.is_finite() && d > 0.0 && d <= 10_000.0)
    {
        return Err(ContractError::new(
            "prescription.daily_dose_omeq",
            "ventet mg OMEQ per døgn: et tall over 0",
        ));
    }
    let daily_dose = match &w.prescription.daily_dose {
        None => None,
        Some(dose) => {
            if !(dose.amount.is_finite() && dose.amount > 0.0 && dose.amount <= 100_000.0) {
                return Err(ContractError::new(
                    "prescription.daily_dose.amount",
                    "ventet døgndosen: et tall over 0",
                ));
            }
            Some(match dose.unit.as_ref() {
                "mg_per_day" => ruleset::Dose::MgPerDay(dose.amount),
                "ug_per_hour" => ruleset::Dose::UgPerHour(dose.amount),
                other => {
                    return Err(ContractError::new(
                        "prescription.daily_dose.unit",
                        format!("ukjent verdi «{other}»; ventet mg_per_day eller ug_per_hour"),
                    ));
                }
            })
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
        Some(d) if d.fract() == 0.0 && (1.0..=3660.0).contains(&d) => Some(d as u32),
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
            Some(match e.kind.as_ref() {
                "notification" => ApprovalExemption::Notification { reference },
                "dmp_approval" => ApprovalExemption::DmpApproval { reference },
                other => {
                    return Err(ContractError::new(
                        "approval_exemption.kind",
                        format!("ukjent verdi «{other}»; ventet notification eller dmp_approval"),
                    ));
                }
            })
        }
    };
    if !(w.packages.is_finite() && w.packages > 0.0 && w.packages <= 1000.0) {
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
}
