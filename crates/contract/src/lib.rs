//! Decision contract v1 (`shared/contract/decision-v1.md`) as JSON: the one place that knows
//! the wire format. The CLI, and later the HTTP service and the integrations, read requests and
//! write decisions through here, so they all answer with the same object.
//!
//! Reading is strict: unknown fields, unknown enum values, malformed ATC codes and dates are
//! errors naming the field as a JSON path; defaults are the contract's and are applied here, in
//! one place. Writing adds two fields the contract allows: `applied` on each explanation step,
//! and `rule_set`, `citations`, `explanation` on dispensing decisions.

mod error;
mod request;
mod response;

pub use error::ContractError;
pub use request::{parse_decision_request, parse_dispensing_request};
pub use response::{write_decision, write_dispensing, write_error};

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
