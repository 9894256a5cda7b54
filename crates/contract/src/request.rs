//! Requests as they arrive: JSON, read into wire structs that mirror the contract's field
//! names, then converted into the validated domain types with the contract's defaults.

use std::borrow::Cow;

use domain::{
    Atc, Authorisation, Date, DecisionRequest, DispensingRequest, Drug, IssuedPrescription,
    MonthsPerYear, NyeMetoder, Omeq, Opioid, OpioidKind, Pain, Patient, PatientId, Percent,
    PrescriberRole, PrescriptionGroup, RefundCode, Setting, StartedIn, Treatment, Usage,
    WrittenForm,
};
use schemars::JsonSchema;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::ContractError;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DecisionRequest")]
struct WireDecisionRequest<'a> {
    /// The day the decision is for (`YYYY-MM-DD`): the rules in force that day apply.
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "object")]
    drug: WireDrug<'a>,
    #[serde(rename = "use", default, borrow, deserialize_with = "object")]
    usage: WireUse<'a>,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = Setting::CODES))]
    setting: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = StartedIn::CODES))]
    started_in: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "object")]
    prescriber: WirePrescriber<'a>,
    #[serde(default, borrow, deserialize_with = "object")]
    patient: WirePatient<'a>,
    #[serde(default, deserialize_with = "object")]
    treatment: WireTreatment,
    #[serde(default, borrow, deserialize_with = "object")]
    opioid: WireOpioid<'a>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireDrug<'a> {
    /// ATC code, 1/3/4/5/7 characters (ATCvet with a leading Q).
    #[serde(borrow)]
    #[schemars(extend("pattern" = Atc::pattern(), "example" = "H02AB13"))]
    atc: Cow<'a, str>,
    /// The active substance.
    #[serde(borrow)]
    #[schemars(length(min = 1), extend("pattern" = r"\S", "example" = "deflazacort"))]
    substance: Cow<'a, str>,
    /// The brand name; leave the field out when it is not known (an empty text is refused).
    #[serde(default, borrow)]
    #[schemars(length(min = 1), extend("pattern" = r"\S"))]
    brand: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = Authorisation::CODES))]
    authorisation: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = PrescriptionGroup::CODES))]
    prescription_group: Option<Cow<'a, str>>,
    /// THC content, per cent (cannabis, G2).
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    thc_percent: Option<f64>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireUse<'a> {
    #[serde(default)]
    on_label: Option<bool>,
    #[serde(default)]
    refund_listed: bool,
    #[serde(default, borrow)]
    refund_code: Option<Cow<'a, str>>,
    #[serde(default)]
    generally_dangerous_infection: bool,
    #[serde(default)]
    mrsa: bool,
    #[serde(default)]
    palliative: bool,
    #[serde(default)]
    established: bool,
    #[serde(default)]
    helfo_documentation: bool,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = NyeMetoder::CODES))]
    nye_metoder: Option<Cow<'a, str>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePrescriber<'a> {
    #[serde(borrow)]
    #[schemars(extend("enum" = PrescriberRole::CODES))]
    role: Cow<'a, str>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePatient<'a> {
    /// Which number the patient has: a fødselsnummer, a D-number, or neither.
    #[serde(default, borrow)]
    #[schemars(extend("enum" = PatientId::CODES))]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    member: Option<bool>,
    #[serde(default)]
    other_hf: bool,
    #[serde(default)]
    age: Option<u16>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireTreatment {
    /// Months of treatment a year (at least 3 of 12 for long-term use); left out: 12.
    #[serde(default)]
    #[schemars(range(min = 0, max = 12))]
    months_per_year: Option<f64>,
    #[serde(default)]
    repeated: bool,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WireOpioid<'a> {
    /// Oral morphine equivalents, mg a day.
    #[serde(default)]
    #[schemars(range(min = 0))]
    omeq: Option<f64>,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = Pain::CODES))]
    pain: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    #[schemars(extend("enum" = OpioidKind::CODES))]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DispensingRequest")]
struct WireDispensingRequest<'a> {
    /// The day of dispensing (`YYYY-MM-DD`).
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    date: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "object")]
    drug: WireDrug<'a>,
    #[serde(borrow, deserialize_with = "object")]
    prescription: WirePrescription<'a>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WirePrescription<'a> {
    #[serde(borrow)]
    #[schemars(extend("enum" = WrittenForm::CODES))]
    form: Cow<'a, str>,
    /// The day the prescription was issued (`YYYY-MM-DD`).
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    issued: Cow<'a, str>,
    /// Its last valid day (`YYYY-MM-DD`).
    #[serde(borrow)]
    #[schemars(extend("format" = "date"))]
    valid_until: Cow<'a, str>,
}

/// The JSON Schemas of the `decide` and `dispense` requests and of a pharmacy dispensing, made
/// from the very structs the parsers read them with — so a field a parser takes or refuses
/// cannot be missing from, or extra in, the API document. The coded values' lists of the two
/// decision requests are added by the server from the domain vocabularies.
pub fn request_schemas() -> serde_json::Value {
    serde_json::json!({
        "DecisionRequest": schema_of::<WireDecisionRequest>(),
        "DispensingRequest": schema_of::<WireDispensingRequest>(),
        "PharmacyDispensing": crate::pharmacy::dispensing_schema(),
    })
}

/// The JSON Schema of `T` in the OpenAPI 3.0 flavour (`nullable`, everything inline, no
/// `$schema` or `title`), for the API document.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let mut settings = schemars::generate::SchemaSettings::openapi3();
    settings.inline_subschemas = true;
    let mut schema = settings.into_generator().into_root_schema_for::<T>();
    schema.remove("$schema");
    schema.remove("title");
    let mut value = schema.to_value();
    null_in_nullable_enums(&mut value);
    value
}

/// OpenAPI 3.0.3: `nullable` does not widen an `enum`, so a field that may be `null` lists
/// `null` among its values — else the document would forbid a `null` the parser takes.
fn null_in_nullable_enums(schema: &mut serde_json::Value) {
    use serde_json::Value;
    match schema {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::Array(values)) = map.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            map.values_mut().for_each(null_in_nullable_enums);
        }
        Value::Array(items) => items.iter_mut().for_each(null_in_nullable_enums),
        _ => {}
    }
}

/// Reads one JSON object into `T` as strictly as the contract's own requests: the body must be
/// an object, and a wrong type, a missing field or (with `deny_unknown_fields`) an unknown one
/// is an error naming the field by its JSON path, in bokmål. For the service's other bodies.
pub fn read_object<'de, T: Deserialize<'de>>(json: &'de [u8]) -> Result<T, ContractError> {
    let Object::<T>(value) = crate::error::from_json(json)?;
    Ok(value)
}

/// Reads a struct only from a JSON object. serde would also read a struct from an array, by
/// position; for a request that would turn `["C10AA05", "atorvastatin"]` into a drug by
/// guessing the order of fields, so arrays are refused.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct ObjectOnly<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("et JSON-objekt")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

/// The whole request must be an object too.
#[derive(Deserialize)]
#[serde(transparent, bound = "T: Deserialize<'de>")]
pub(crate) struct Object<T>(#[serde(deserialize_with = "object")] pub(crate) T);

/// Reads a `decide` request (one JSON object).
pub fn parse_decision_request(json: &[u8]) -> Result<DecisionRequest, ContractError> {
    let Object::<WireDecisionRequest>(w) = crate::error::from_json(json)?;
    Ok(DecisionRequest {
        date: date("date", &w.date)?,
        drug: drug(w.drug)?,
        usage: Usage {
            on_label: w.usage.on_label.unwrap_or(true),
            refund_listed: w.usage.refund_listed,
            refund_code: w
                .usage
                .refund_code
                .map(|c| {
                    RefundCode::parse(&c).map_err(|m| ContractError::new("use.refund_code", m))
                })
                .transpose()?,
            generally_dangerous_infection: w.usage.generally_dangerous_infection,
            mrsa: w.usage.mrsa,
            palliative: w.usage.palliative,
            established: w.usage.established,
            helfo_documentation: w.usage.helfo_documentation,
            nye_metoder: code(
                "use.nye_metoder",
                w.usage.nye_metoder,
                NyeMetoder::None,
                NyeMetoder::from_code,
                NyeMetoder::ALL,
            )?,
        },
        setting: code(
            "setting",
            w.setting,
            Setting::PatientAdministered,
            Setting::from_code,
            Setting::ALL,
        )?,
        started_in: code(
            "started_in",
            w.started_in,
            StartedIn::Primary,
            StartedIn::from_code,
            StartedIn::ALL,
        )?,
        prescriber: required_code(
            "prescriber.role",
            &w.prescriber.role,
            PrescriberRole::from_code,
            PrescriberRole::ALL,
        )?,
        patient: Patient {
            id: code(
                "patient.id",
                w.patient.id,
                PatientId::Fnr,
                PatientId::from_code,
                PatientId::ALL,
            )?,
            member: w.patient.member.unwrap_or(true),
            other_hf: w.patient.other_hf,
            age: w.patient.age,
        },
        treatment: Treatment {
            months_per_year: match w.treatment.months_per_year {
                None => MonthsPerYear::FULL_YEAR,
                Some(m) => MonthsPerYear::new(m)
                    .map_err(|e| ContractError::new("treatment.months_per_year", e))?,
            },
            repeated: w.treatment.repeated,
        },
        opioid: Opioid {
            omeq: w
                .opioid
                .omeq
                .map(|o| Omeq::new(o).map_err(|e| ContractError::new("opioid.omeq", e)))
                .transpose()?,
            pain: w
                .opioid
                .pain
                .map(|p| required_code("opioid.pain", &p, Pain::from_code, Pain::ALL))
                .transpose()?,
            kind: code(
                "opioid.kind",
                w.opioid.kind,
                OpioidKind::Standard,
                OpioidKind::from_code,
                OpioidKind::ALL,
            )?,
        },
    })
}

/// Reads a `dispense` request (one JSON object).
pub fn parse_dispensing_request(json: &[u8]) -> Result<DispensingRequest, ContractError> {
    let Object::<WireDispensingRequest>(w) = crate::error::from_json(json)?;
    Ok(DispensingRequest {
        date: date("date", &w.date)?,
        drug: drug(w.drug)?,
        prescription: IssuedPrescription {
            form: required_code(
                "prescription.form",
                &w.prescription.form,
                WrittenForm::from_code,
                WrittenForm::ALL,
            )?,
            issued: date("prescription.issued", &w.prescription.issued)?,
            valid_until: date("prescription.valid_until", &w.prescription.valid_until)?,
        },
    })
}

fn drug(w: WireDrug) -> Result<Drug, ContractError> {
    let substance = w.substance.trim();
    if substance.is_empty() {
        return Err(ContractError::new(
            "drug.substance",
            "kan ikke være tom: ventet virkestoffnavnet, f.eks. «deflazacort»",
        ));
    }
    let brand = match w.brand {
        Some(b) if b.trim().is_empty() => {
            return Err(ContractError::new(
                "drug.brand",
                "kan ikke være tom: utelat feltet når handelsnavnet ikke er kjent",
            ));
        }
        b => b.map(|b| b.trim().to_string()),
    };
    Ok(Drug {
        atc: Atc::parse(&w.atc).map_err(|e| ContractError::new("drug.atc", e.to_string()))?,
        substance: substance.to_string(),
        brand,
        authorisation: code(
            "drug.authorisation",
            w.authorisation,
            Authorisation::Marketed,
            Authorisation::from_code,
            Authorisation::ALL,
        )?,
        prescription_group: w
            .prescription_group
            .map(|g| {
                required_code(
                    "drug.prescription_group",
                    &g,
                    PrescriptionGroup::from_code,
                    PrescriptionGroup::ALL,
                )
            })
            .transpose()?,
        thc_percent: w
            .thc_percent
            .map(|p| Percent::new(p).map_err(|e| ContractError::new("drug.thc_percent", e)))
            .transpose()?,
    })
}

fn date(field: &'static str, text: &str) -> Result<Date, ContractError> {
    Date::parse(text).map_err(|e| ContractError::new(field, e.to_string()))
}

/// An optional enum field: absent means the contract's default.
fn code<T: Copy + std::fmt::Display>(
    field: &'static str,
    text: Option<Cow<str>>,
    default: T,
    parse: fn(&str) -> Option<T>,
    all: &[T],
) -> Result<T, ContractError> {
    match text {
        None => Ok(default),
        Some(t) => required_code(field, &t, parse, all),
    }
}

fn required_code<T: Copy + std::fmt::Display>(
    field: &'static str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
) -> Result<T, ContractError> {
    parse(text).ok_or_else(|| {
        let known: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        ContractError::new(
            field,
            format!(
                "ukjent verdi «{}»; ventet en av: {}",
                text.chars().take(40).collect::<String>(),
                known.join(", ")
            ),
        )
    })
}
