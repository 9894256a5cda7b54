//! The decision rules of `legemiddel`: for a prescribing situation, who pays, on what paper,
//! what must be applied for and by whom, what blocks it, and why — citing the rule.
//!
//! [`decide`] is the whole of it, and reads as the outline of the law: veterinary medicines
//! aside, the setting first (F1, F7), then the § 1b list that overrides everything after it (F3), then § 4 (B2), the
//! palliative code (B6), off-label use in specialist care (O1), § 2 (B1), and otherwise § 3
//! (B3–B5); then the rules that cut across every path: approval exemption (G1, G2), membership,
//! co-payment and substitution (B7). Each rule lives in its own module, named after what it
//! governs, and cites its id (`shared/domain.md`) and its legal source.
//!
//! Everything here is a pure function of the request and the [`RuleSet`]: no I/O, no clock
//! (the date is input), no globals. The explanation is built as data ([`Step`]s); the edges
//! render it.

mod citation;
mod communicable;
mod copayment;
mod exemption;
mod general;
pub mod h_list;
pub mod impact;
mod individual;
mod off_label;
mod outcome;
mod palliative;
mod refund;
mod setting;

pub use individual::role_name;
pub use outcome::{Action, Blocker, Decision, Path, Step, Text, Trace};

use domain::{DecisionRequest, RuleId, Scheme, Setting};
use ruleset::{NotInForce, RuleSet};

/// Why no decision could be made: the request is inconsistent, or no rule data covers its date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecideError {
    /// A field's value cannot be decided on (e.g. a dose missing where the rule needs it).
    Input {
        /// The field, as a JSON path (`opioid.omeq`).
        field: &'static str,
        /// What was expected, in bokmål.
        message: String,
    },
    /// The rule data has no value in force on the request's date.
    NotInForce(NotInForce),
}

impl DecideError {
    pub(crate) fn input(field: &'static str, message: impl Into<String>) -> DecideError {
        DecideError::Input {
            field,
            message: message.into(),
        }
    }

    /// The request field to blame.
    pub fn field(&self) -> &'static str {
        match self {
            DecideError::Input { field, .. } => field,
            DecideError::NotInForce(_) => "date",
        }
    }

    /// What is wrong, in bokmål.
    pub fn message(&self) -> String {
        match self {
            DecideError::Input { message, .. } => message.clone(),
            DecideError::NotInForce(e) => e.to_string(),
        }
    }
}

impl From<NotInForce> for DecideError {
    fn from(e: NotInForce) -> Self {
        DecideError::NotInForce(e)
    }
}

impl std::fmt::Display for DecideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field(), self.message())
    }
}

impl std::error::Error for DecideError {}

/// Decides who pays for a prescription, and why.
pub fn decide<'r>(req: &DecisionRequest, rules: &'r RuleSet) -> Result<Decision<'r>, DecideError> {
    let mut t = Trace::new();
    let mut path = financing_path(req, rules, &mut t)?;

    // Rules that cut across every path, except trials and compassionate use, which carry
    // their own permissions and financing.
    if !matches!(
        path.scheme,
        Scheme::ClinicalTrial | Scheme::CompassionateUse
    ) {
        exemption::g1_g2(req, rules, &mut path, &mut t)?;
    }
    general::membership(req, &mut path, &mut t);
    let copayment = copayment::copayment(req, rules, &path, &mut t)?;
    if path.is_blue_s2_s3() {
        t.applied(RuleId::B7, citation::B7,
            "Apoteket tilbyr det rimeligste byttbare legemidlet (generisk eller biotilsvarende bytte). Legen kan reservere \
             resepten mot bytte bare av tungtveiende medisinske grunner, vurdert per resept.");
    }

    let (explanation, citations) = t.into_parts();
    Ok(Decision {
        payer: path.payer,
        scheme: path.scheme,
        prescription: path.prescription,
        actions: path.actions,
        blockers: path.blockers,
        copayment,
        rule_set: rules.label(req.date),
        citations,
        explanation,
    })
}

/// The financing path, in the order of precedence the law gives (and the contract fixes):
/// each rule either decides the path or says why it did not, and the next one is tried.
fn financing_path<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    t: &mut Trace<'r>,
) -> Result<Path, DecideError> {
    let date = req.date;
    // Veterinary medicines are outside every scheme: the owner pays.
    if let Some(path) = general::veterinary(req, t) {
        return Ok(path);
    }
    // F1, F7: where the medicine is given decides first.
    if let Some(mut path) = setting::f1_f7(req, t) {
        // O2 covers admitted and outpatients too: off-label use in hospital is the trust's to
        // pay, and still goes through the approval chain (and the patient's own trust's).
        if matches!(req.setting, Setting::Inpatient | Setting::Outpatient) && !req.usage.on_label {
            off_label::o2_approvals(req, &mut path, t);
        }
        return Ok(path);
    }
    // F3–F5: a listed medicine is the RHF's, for every use; it overrides §§ 2, 3 and 4.
    if let Some(path) = h_list::f3(req, rules, t) {
        return Ok(path);
    }
    // B2: § 4, generally dangerous communicable diseases, for everyone in Norway.
    if let Some(path) = communicable::b2(req, rules.communicable.at(date)?, t) {
        return Ok(path);
    }
    // B6: palliative care at the end of life, refund code -90.
    if let Some(path) = palliative::b6(req, rules.palliative.at(date)?, t) {
        return Ok(path);
    }
    // O1: off-label or off-licence use started in specialist care.
    if let Some(path) = off_label::o1(req, rules, t)? {
        return Ok(path);
    }
    // B1: § 2, pre-approved refund.
    if let Some(path) = refund::b1(req, rules, t)? {
        return Ok(path);
    }
    // B3–B5: otherwise, § 3 individual application to Helfo.
    individual::b3(req, rules, t)
}
