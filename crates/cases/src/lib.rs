//! Part 2 — the case workflows: off-label and off-licence treatment approved in the trusts
//! (O1–O5, seeds/002) and individual applications to Helfo under § 3 (B3–B5, seeds/001).
//!
//! Everything here is pure: a form is a set of named text fields ([`Fields`]), validated into
//! a typed form with an error per field; a case moves only through its state machine, by the
//! role allowed to make each move, and every move says what it records. The service loads a
//! case, asks this crate what may happen, and stores the answer; the clock and the database
//! stay at the edge.
//!
//! **Architecture invariant:** no I/O, no clock (today's date is an argument), no SQL, no HTTP.

pub mod exemption;
pub mod fields;
pub mod helfo;
/// Norwegian person identifiers (kept in `domain`, shared with the pharmacy side).
pub use domain::identity;
pub mod off_label;
pub mod overview;

pub use domain::Role;
pub use fields::{FieldError, Fields};

/// Who is acting: from the verified token, never from the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The token's subject (recorded).
    pub subject: String,
    /// The name shown and written in the record ("godkjent av …").
    pub name: String,
    /// The role the action is taken in.
    pub role: Role,
    /// The health trust the actor works for (`None` for Helfo and the agency).
    pub trust: Option<String>,
}

/// Why a move was refused: shown to the person who tried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The role may not make this move at all (HTTP 403).
    Forbidden(String),
    /// The move does not fit the case as it is now (HTTP 409).
    Conflict(String),
    /// The input is wrong, per field (HTTP 422).
    Invalid(Vec<FieldError>),
}

impl Refusal {
    /// One line for logs and API answers.
    pub fn message(&self) -> String {
        match self {
            Refusal::Forbidden(m) | Refusal::Conflict(m) => m.clone(),
            Refusal::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}
