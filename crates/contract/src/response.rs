//! Decisions as they leave: JSON with the contract's field names and values. Serialized
//! straight from the domain values (no intermediate copies), since `decide --batch` writes
//! hundreds of thousands of them a second.

use decide::{Action, Blocker, Decision, Step};
use dispense::DispensingDecision;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::ContractError;

/// A `decide` answer as contract JSON.
pub struct DecisionJson<'a, 'r>(pub &'a Decision<'r>);

impl Serialize for DecisionJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry("payer", d.payer.code())?;
        m.serialize_entry("scheme", d.scheme.code())?;
        m.serialize_entry("prescription", d.prescription.code())?;
        m.serialize_entry("actions", &Actions(&d.actions))?;
        m.serialize_entry("blockers", &Blockers(&d.blockers))?;
        m.serialize_entry("copayment", &d.copayment)?;
        m.serialize_entry("rule_set", d.rule_set)?;
        m.serialize_entry("citations", &d.citations)?;
        m.serialize_entry("explanation", &Steps(&d.explanation))?;
        m.end()
    }
}

/// A `dispense` answer as contract JSON. `register_as` and `payer` are absent when the
/// prescription is not accepted.
pub struct DispensingJson<'a, 'r>(pub &'a DispensingDecision<'r>);

impl Serialize for DispensingJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("accepted", &d.accepted)?;
        if let Some(form) = d.register_as {
            m.serialize_entry("register_as", form.code())?;
        }
        if let Some(payer) = d.payer {
            m.serialize_entry("payer", payer.code())?;
        }
        m.serialize_entry("blockers", &Blockers(&d.blockers))?;
        m.serialize_entry("rule_set", d.rule_set)?;
        m.serialize_entry("citations", &d.citations)?;
        m.serialize_entry("explanation", &Steps(&d.explanation))?;
        m.end()
    }
}

/// `{"error": {"field": …, "message": …}}`, with the input line number in batch mode.
pub struct ErrorJson<'a> {
    /// The error.
    pub error: &'a ContractError,
    /// 1-based line of the input, in `decide --batch`.
    pub line: Option<u64>,
}

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Inner<'a>(&'a ErrorJson<'a>);
        impl Serialize for Inner<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("field", &self.0.error.field)?;
                m.serialize_entry("message", &self.0.error.message)?;
                if let Some(line) = self.0.line {
                    m.serialize_entry("line", &line)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("error", &Inner(self))?;
        m.end()
    }
}

struct Actions<'a>(&'a [Action]);

impl Serialize for Actions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for a in self.0 {
            seq.serialize_element(&ActionJson(a))?;
        }
        seq.end()
    }
}

struct ActionJson<'a>(&'a Action);

impl Serialize for ActionJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kind", self.0.kind.code())?;
        if let Some(applicant) = self.0.applicant {
            m.serialize_entry("applicant", applicant.code())?;
        }
        m.end()
    }
}

struct Blockers<'a>(&'a [Blocker]);

impl Serialize for Blockers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for b in self.0 {
            seq.serialize_element(&BlockerJson(b))?;
        }
        seq.end()
    }
}

struct BlockerJson<'a>(&'a Blocker);

impl Serialize for BlockerJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("code", self.0.code.code())?;
        m.serialize_entry("message", self.0.message.as_ref())?;
        m.end()
    }
}

struct Steps<'a>(&'a [Step]);

impl Serialize for Steps<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for step in self.0 {
            seq.serialize_element(&StepJson(step))?;
        }
        seq.end()
    }
}

struct StepJson<'a>(&'a Step);

impl Serialize for StepJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("rule", self.0.rule.code())?;
        m.serialize_entry("applied", &self.0.applied)?;
        m.serialize_entry("text", self.0.text.as_ref())?;
        m.end()
    }
}
