//! The answers' shape as data: serde structs that borrow a decision and write exactly what the
//! hand writer in `response` writes, byte for byte.
//!
//! They exist for two readers. The API document's `Decision` and `DispensingDecision` schemas
//! are made from them (schemars), with every coded value listed from its domain vocabulary; and
//! the property tests hold the fast writer to them (`serde_json::to_vec` of the shape must equal
//! [`crate::write_decision`]'s bytes for every generated request), so the schema describes what
//! is really sent. Answers may carry more fields than listed (the contract allows additions), so
//! the schemas do not forbid other properties.

use decide::{Action, Blocker, Decision, Step};
use dispense::DispensingDecision;
use domain::{
    ActionKind, Applicant, BlockerCode, Payer, Prescription, RuleId, Scheme, WrittenForm,
};
use schemars::JsonSchema;
use serde::Serialize;

/// A `decide` answer (decision contract v1).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Decision")]
pub struct DecisionShape<'a> {
    /// Who pays if the path is followed.
    #[schemars(extend("enum" = Payer::CODES))]
    payer: &'static str,
    /// The financing path.
    #[schemars(extend("enum" = Scheme::CODES))]
    scheme: &'static str,
    /// The prescription to write.
    #[schemars(extend("enum" = Prescription::CODES))]
    prescription: &'static str,
    /// What must be done first (an application, an approval), and by whom.
    actions: Vec<ActionShape>,
    /// What stops this prescriber or this path.
    blockers: Vec<BlockerShape<'a>>,
    /// Whether the patient pays a co-payment.
    copayment: bool,
    /// The rule data used (data-set version and § 1b list version).
    rule_set: &'a str,
    /// The legal sources applied, first use first, without repeats.
    #[schemars(length(min = 1))]
    citations: &'a [&'a str],
    /// Every rule tried, in order, and why it did or did not apply.
    explanation: Vec<StepShape<'a>>,
}

/// A `dispense` answer (decision contract v1).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "DispensingDecision")]
pub struct DispensingShape<'a> {
    /// Whether the pharmacy may dispense on this prescription.
    accepted: bool,
    /// What it is registered as; absent when not accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = WrittenForm::CODES))]
    register_as: Option<&'static str>,
    /// Who pays; absent when not accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = Payer::CODES))]
    payer: Option<&'static str>,
    /// Why it is not accepted.
    blockers: Vec<BlockerShape<'a>>,
    /// The rule data used.
    rule_set: &'a str,
    /// The legal sources applied.
    #[schemars(length(min = 1))]
    citations: &'a [&'a str],
    /// Every rule tried, in order.
    explanation: Vec<StepShape<'a>>,
}

/// Something that must be done before the medicine can be given on this path.
#[derive(Serialize, JsonSchema)]
struct ActionShape {
    /// What.
    #[schemars(extend("enum" = ActionKind::CODES))]
    kind: &'static str,
    /// Who may do it (on Helfo applications).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = Applicant::CODES))]
    applicant: Option<&'static str>,
}

/// What stops the path, with a stable code.
#[derive(Serialize, JsonSchema)]
struct BlockerShape<'a> {
    #[schemars(extend("enum" = BlockerCode::CODES))]
    code: &'static str,
    /// Why, in bokmål.
    message: &'a str,
}

/// One rule tried.
#[derive(Serialize, JsonSchema)]
struct StepShape<'a> {
    /// The rule's id in `shared/domain.md`.
    #[schemars(extend("enum" = RuleId::CODES))]
    rule: &'static str,
    /// Whether it decided or changed the outcome.
    applied: bool,
    /// Why, in bokmål.
    text: &'a str,
}

impl<'a> From<&'a Decision<'a>> for DecisionShape<'a> {
    fn from(d: &'a Decision<'a>) -> Self {
        DecisionShape {
            payer: d.payer.code(),
            scheme: d.scheme.code(),
            prescription: d.prescription.code(),
            actions: d.actions.iter().map(ActionShape::from).collect(),
            blockers: d.blockers.iter().map(BlockerShape::from).collect(),
            copayment: d.copayment,
            rule_set: d.rule_set,
            citations: &d.citations,
            explanation: d.explanation.iter().map(StepShape::from).collect(),
        }
    }
}

impl<'a> From<&'a DispensingDecision<'a>> for DispensingShape<'a> {
    fn from(d: &'a DispensingDecision<'a>) -> Self {
        DispensingShape {
            accepted: d.accepted,
            register_as: d.register_as.map(WrittenForm::code),
            payer: d.payer.map(Payer::code),
            blockers: d.blockers.iter().map(BlockerShape::from).collect(),
            rule_set: d.rule_set,
            citations: &d.citations,
            explanation: d.explanation.iter().map(StepShape::from).collect(),
        }
    }
}

impl From<&Action> for ActionShape {
    fn from(a: &Action) -> Self {
        ActionShape {
            kind: a.kind.code(),
            applicant: a.applicant.map(Applicant::code),
        }
    }
}

impl<'a> From<&'a Blocker> for BlockerShape<'a> {
    fn from(b: &'a Blocker) -> Self {
        BlockerShape {
            code: b.code.code(),
            message: &b.message,
        }
    }
}

impl<'a> From<&'a Step> for StepShape<'a> {
    fn from(s: &'a Step) -> Self {
        StepShape {
            rule: s.rule.code(),
            applied: s.applied,
            text: &s.text,
        }
    }
}

/// The JSON Schemas of the two answers, by the names the API document gives them.
pub fn answer_schemas() -> serde_json::Value {
    serde_json::json!({
        "Decision": crate::schema_of::<DecisionShape>(),
        "DispensingDecision": crate::schema_of::<DispensingShape>(),
    })
}
