//! What a decision is: the path (scheme, payer, paper), what must be done, what blocks it, and
//! the trace of every rule tried. Built up step by step by the rules, in the law's order.

use std::borrow::Cow;

use domain::{ActionKind, Applicant, BlockerCode, Payer, Prescription, RuleId, Scheme};

/// Text shown to people (bokmål). Most of it is fixed; some names the facts used.
pub type Text = Cow<'static, str>;

/// Joins text pieces into one [`Text`] with a single allocation: `format!` without the
/// formatting machinery, for the texts built on every decision (numbers via
/// [`domain::Digits`]).
macro_rules! text {
    ($($piece:expr),+ $(,)?) => {{
        let pieces: &[&str] = &[$($piece),+];
        $crate::outcome::join(pieces)
    }};
}
pub(crate) use text;

/// See [`text!`].
pub fn join(pieces: &[&str]) -> Text {
    let mut s = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for p in pieces {
        s.push_str(p);
    }
    Cow::Owned(s)
}

/// The answer to a decision request (contract `decide`).
#[derive(Clone, Debug, PartialEq)]
pub struct Decision<'r> {
    /// Who pays if the path is followed.
    pub payer: Payer,
    /// The financing path.
    pub scheme: Scheme,
    /// The paper to write.
    pub prescription: Prescription,
    /// What must be done first.
    pub actions: Vec<Action>,
    /// What stops this prescriber or this path.
    pub blockers: Vec<Blocker>,
    /// Whether the patient pays a co-payment.
    pub copayment: bool,
    /// The rule data used (data-set version and § 1b list version).
    pub rule_set: &'r str,
    /// The legal sources applied, first use first, without repeats.
    pub citations: Vec<&'r str>,
    /// Every rule tried, in order, and why it did or did not apply.
    pub explanation: Vec<Step>,
}

/// Something that must be done before the medicine can be given on this path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    /// What.
    pub kind: ActionKind,
    /// Who may do it (on Helfo applications).
    pub applicant: Option<Applicant>,
}

impl Action {
    /// An action without an applicant.
    pub fn new(kind: ActionKind) -> Action {
        Action {
            kind,
            applicant: None,
        }
    }
}

/// What stops this prescriber or this path, with a Norwegian explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocker {
    /// The stable code.
    pub code: BlockerCode,
    /// Why, in bokmål.
    pub message: Text,
}

/// One rule tried: its id, whether it applied, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The rule (`shared/domain.md`).
    pub rule: RuleId,
    /// Whether it decided or changed the outcome.
    pub applied: bool,
    /// Why, in bokmål.
    pub text: Text,
}

/// The explanation and citations gathered while the rules run.
#[derive(Debug, Default)]
pub struct Trace<'r> {
    pub(crate) steps: Vec<Step>,
    pub(crate) citations: Vec<&'r str>,
}

impl<'r> Trace<'r> {
    /// An empty trace.
    pub fn new() -> Self {
        Trace {
            steps: Vec::with_capacity(12),
            citations: Vec::with_capacity(6),
        }
    }

    /// Records that `rule` applied, and cites its source.
    pub fn applied(&mut self, rule: RuleId, citation: &'r str, text: impl Into<Text>) {
        self.steps.push(Step {
            rule,
            applied: true,
            text: text.into(),
        });
        self.cite(citation);
    }

    /// Records that `rule` was tried and did not apply.
    pub fn not_applied(&mut self, rule: RuleId, text: impl Into<Text>) {
        self.steps.push(Step {
            rule,
            applied: false,
            text: text.into(),
        });
    }

    /// Adds a legal source, once.
    pub fn cite(&mut self, citation: &'r str) {
        if !self.citations.contains(&citation) {
            self.citations.push(citation);
        }
    }

    /// The steps so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Takes the steps and citations.
    pub fn into_parts(self) -> (Vec<Step>, Vec<&'r str>) {
        (self.steps, self.citations)
    }
}

/// A financing path chosen by one of the rules, before the cross-cutting rules (approval
/// exemption, membership, co-payment) have had their say.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The scheme.
    pub scheme: Scheme,
    /// Who pays.
    pub payer: Payer,
    /// The paper.
    pub prescription: Prescription,
    /// What must be done first.
    pub actions: Vec<Action>,
    /// What blocks it.
    pub blockers: Vec<Blocker>,
}

impl Path {
    /// A path with nothing to do and nothing in the way (yet).
    pub fn new(scheme: Scheme, payer: Payer, prescription: Prescription) -> Path {
        Path {
            scheme,
            payer,
            prescription,
            actions: Vec::new(),
            blockers: Vec::new(),
        }
    }

    /// Adds an action, once.
    pub fn act(&mut self, action: Action) {
        if !self.actions.iter().any(|a| a.kind == action.kind) {
            self.actions.push(action);
        }
    }

    /// Adds a blocker. One blocker per code: a second reason for the same code is appended to
    /// the first one's message, so nothing a rule said is lost.
    pub fn block(&mut self, code: BlockerCode, message: impl Into<Text>) {
        let message = message.into();
        match self.blockers.iter_mut().find(|b| b.code == code) {
            Some(b) if b.message != message => {
                let merged = b.message.to_mut();
                merged.push(' ');
                merged.push_str(&message);
            }
            Some(_) => {}
            None => self.blockers.push(Blocker { code, message }),
        }
    }

    /// Whether the National Insurance pays on this path under §§ 2–3 (where membership, the
    /// long-term condition and the co-payment apply; § 4 is for everyone).
    pub fn is_blue_s2_s3(&self) -> bool {
        matches!(self.scheme, Scheme::S2 | Scheme::S3)
    }
}

/// ATC groups from the rule data as text (`N02A, N07BC02`), so a reason never names a list the
/// data has changed.
pub fn atc_list(groups: &[domain::Atc]) -> String {
    groups
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
