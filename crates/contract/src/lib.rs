//! Decision contract v1 (`shared/contract/decision-v1.md`) as JSON: the one place that knows
//! the wire format. The CLI, and later the HTTP service and the integrations, read requests and
//! write decisions through here, so they all answer with the same object.
//!
//! Reading is strict: unknown fields, unknown enum values, malformed ATC codes and dates are
//! errors naming the field as a JSON path; defaults are the contract's and are applied here, in
//! one place. Writing adds two fields the contract allows: `applied` on each explanation step,
//! and `rule_set`, `citations`, `explanation` on dispensing decisions.

pub mod catalogue;
mod error;
pub mod pharmacy;
mod request;
mod response;
pub mod settlement;
pub mod shape;

pub use error::ContractError;
pub use request::{
    parse_decision_request, parse_dispensing_request, read_object, request_schemas, schema_of,
};
pub use response::{write_decision, write_dispensing, write_error};

use domain::Date;
use ruleset::RuleSet;

/// The two commands of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `decide`: who pays.
    Decide,
    /// `dispense`: accept and register at the pharmacy.
    Dispense,
}

/// Reads one request, decides it, and appends the JSON answer to `out`. On error nothing is
/// appended.
pub fn answer(
    command: Command,
    request: &[u8],
    rules: &RuleSet,
    out: &mut Vec<u8>,
) -> Result<(), ContractError> {
    match command {
        Command::Decide => {
            let req = parse_decision_request(request)?;
            let decision = decide::decide(&req, rules)?;
            write_decision(&decision, out);
        }
        Command::Dispense => {
            let req = parse_dispensing_request(request)?;
            let decision = dispense::dispense(&req, rules)?;
            write_dispensing(&decision, out);
        }
    }
    Ok(())
}

/// The rule data in force on a date, as JSON.
pub fn rules_json(rules: &RuleSet, date: Date) -> serde_json::Value {
    let items: Vec<serde_json::Value> = rules
        .in_force(date)
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "rule": r.source.rule.code(),
                "title": r.source.title,
                "basis": r.source.basis,
                "source": r.source.source,
                "file": r.source.file,
                "note": r.source.note,
                "from": r.period.map(|p| p.from.to_string()),
                "until": r.period.and_then(|p| p.until).map(|d| d.to_string()),
                "values": r.lines.iter().map(|(k, v)| serde_json::json!({"label": k, "value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({ "date": date.to_string(), "rule_set": rules.label(date), "rules": items })
}
