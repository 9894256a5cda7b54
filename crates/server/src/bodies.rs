//! The JSON bodies the service reads besides the contract's own (stockpile events, a delivery,
//! a supply stop; a case's moves and rulings; a coverage question): one struct each.
//!
//! Each struct is both the parser and the API document's schema of its body: it is read with
//! [`contract::read_object`] (an object; every field typed; an unknown field, a missing one or
//! a wrong type is refused, naming the field by its JSON path) and described by schemars from
//! the same fields, bounds and codes. So the document cannot promise what the reader refuses,
//! nor the reader take what the document forbids. What a schema cannot say (an event against
//! its lot's history, a ruling on a case in the wrong state) is checked further in, by the
//! stock ledger and the case workflows.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// A varenummer: six digits, leading zeros kept.
const VARENR: &str = "^[0-9]{6}$";
/// Text that is not only blanks.
const NOT_BLANK: &str = r"\S";
/// The most events one request stores (all or none).
pub const MAX_EVENTS: usize = 10_000;
/// The longest supply stop simulated, in days (ten years).
pub const MAX_STOP_DAYS: u32 = 3650;

/// `POST /api/v1/stockpiles/events`: events stored all together or not at all.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "StockEvents")]
pub struct StockEvents {
    /// 1 to 10,000 events; each is checked against its lot's history.
    #[schemars(length(min = 1, max = MAX_EVENTS))]
    pub events: Vec<StockEvent>,
}

/// One event of a lot (one wholesaler's stock of one package with one lot number and expiry).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StockEvent {
    /// The wholesaler's id in the rule data (E1), e.g. AHN, NMD, APOTEK1.
    #[schemars(length(min = 1), extend("pattern" = NOT_BLANK))]
    pub wholesaler: String,
    /// The package's varenummer.
    #[schemars(extend("pattern" = VARENR))]
    pub varenr: String,
    /// The lot number.
    #[schemars(length(min = 1), extend("pattern" = NOT_BLANK))]
    pub lot: String,
    /// The substance's ATC code.
    #[schemars(extend("pattern" = domain::Atc::pattern()))]
    pub atc: String,
    /// The lot's expiry (`YYYY-MM-DD`).
    #[schemars(extend("format" = "date"))]
    pub expiry: String,
    /// The day it happened (`YYYY-MM-DD`); may be back-dated.
    #[schemars(extend("format" = "date"))]
    pub date: String,
    /// What happened.
    #[schemars(extend("enum" = stock::EventKind::CODES))]
    pub kind: String,
    /// Packages: positive for received, issued and expired; signed for adjusted; what is on the
    /// shelf for counted; 0 (or left out) for reversed.
    #[serde(default)]
    pub quantity: i64,
    /// For `reversed`: the id of the event it cancels.
    #[serde(default)]
    pub reverses: Option<i64>,
    /// Why, in words (kept with the event).
    #[serde(default)]
    pub note: Option<String>,
    /// The sender's own id for the event: sent again, it is stored once.
    #[serde(default)]
    #[schemars(length(min = 1), extend("pattern" = NOT_BLANK))]
    pub key: Option<String>,
}

/// `POST /api/v1/stockpiles/allocate`: a delivery picked first expiry first out.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "StockAllocation")]
pub struct Allocation {
    /// The wholesaler delivering.
    #[schemars(length(min = 1), extend("pattern" = NOT_BLANK))]
    pub wholesaler: String,
    /// The package delivered.
    #[schemars(extend("pattern" = VARENR))]
    pub varenr: String,
    /// Packages to deliver.
    #[schemars(range(min = 1))]
    pub quantity: i64,
    /// The day (`YYYY-MM-DD`); null or left out: today.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub date: Option<String>,
    /// Only show the picks; record nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/v1/stockpiles/simulate`: a supply stop.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SupplyStop")]
pub struct SupplyStop {
    /// An ATC code or group (e.g. `J01` or `J01CA04`).
    #[schemars(extend("pattern" = domain::Atc::pattern()))]
    pub atc: String,
    /// How long no supplies come, in days.
    #[schemars(range(min = 1, max = MAX_STOP_DAYS))]
    pub days: u32,
    /// The first day of the stop (`YYYY-MM-DD`); null or left out: today.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub date: Option<String>,
}

/// `POST /api/v1/off-label/{id}/moves`: a step of the approval chain (O2).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "OffLabelMove")]
pub struct OffLabelMove {
    /// The version the case had when it was read (a case moved meanwhile is refused).
    pub version: i64,
    /// The step.
    #[serde(rename = "move")]
    #[schemars(extend("enum" = cases::off_label::Move::CODES))]
    pub movement: String,
    /// Why, in words; required where the chain asks for it (returning, rejecting).
    pub reason: String,
    /// `evaluate_stop`: the index of the plan's stop rule that fired.
    #[serde(default)]
    pub stop_rule: Option<u32>,
}

/// `POST /api/v1/helfo/applications/{id}/ruling`: Helfo's ruling on a § 3 application (B4).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HelfoRuling")]
pub struct HelfoRuling {
    /// The version the case had when it was read.
    pub version: i64,
    /// `grant`, `refuse` (the reason says why; the answer says how to appeal), or
    /// `more_information` (the reason is the question to the applicant).
    #[schemars(extend("enum" = crate::cases_api::HELFO_RULINGS))]
    pub ruling: String,
    /// `grant`: the last day the grant holds (`YYYY-MM-DD`); left out, the rule data's period.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub valid_until: Option<String>,
    /// `more_information`: the last day to answer (`YYYY-MM-DD`); left out, the rule data's
    /// default (SAKSBEHANDLING).
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub deadline: Option<String>,
    /// The reasons, in words.
    pub reason: String,
}

/// `POST /api/v1/helfo/applications/{id}/answer`: the applicant's answer to Helfo's question.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HelfoAnswer")]
pub struct HelfoAnswer {
    /// The version the case had when it was read.
    pub version: i64,
    /// The information Helfo asked for.
    #[schemars(length(min = 1), extend("pattern" = NOT_BLANK))]
    pub answer: String,
}

/// `POST /api/v1/exemptions/{id}/ruling`: DMP's ruling on an approval exemption (G1).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ExemptionRuling")]
pub struct ExemptionRuling {
    /// The version the case had when it was read.
    pub version: i64,
    /// `approve` or `refuse`.
    #[schemars(extend("enum" = crate::exemptions::RULINGS))]
    pub ruling: String,
    /// The reasons; required for `refuse`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/v1/helfo/coverage`: is this blue prescription covered by a § 3 grant (B5)?
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CoverageQuestion")]
pub struct CoverageQuestion {
    /// The patient's fødselsnummer or D-number (11 digits; the check digits are checked).
    #[schemars(extend("pattern" = "^[0-9]{11}$"))]
    pub patient_id: String,
    /// The medicine's ATC code.
    #[schemars(extend("pattern" = domain::Atc::pattern()))]
    pub atc: String,
    /// The day of dispensing (`YYYY-MM-DD`); left out: today.
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub date: Option<String>,
    /// The daily dose in mg oral morphine equivalents, for a grant with an OMEQ limit.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub omeq: Option<f64>,
}

/// Every body's schema by the name the API document gives it (`#/components/schemas/…`).
pub fn schemas() -> Value {
    use contract::schema_of;
    json!({
        "StockEvents": schema_of::<StockEvents>(),
        "StockAllocation": schema_of::<Allocation>(),
        "SupplyStop": schema_of::<SupplyStop>(),
        "OffLabelMove": schema_of::<OffLabelMove>(),
        "HelfoRuling": schema_of::<HelfoRuling>(),
        "HelfoAnswer": schema_of::<HelfoAnswer>(),
        "ExemptionRuling": schema_of::<ExemptionRuling>(),
        "CoverageQuestion": schema_of::<CoverageQuestion>(),
    })
}
