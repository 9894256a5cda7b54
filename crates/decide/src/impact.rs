//! What a rule change would do: decisions as they were given set beside the same requests
//! decided under a proposed rule set (a new § 1b list, a changed threshold), counted per
//! transition of each thing a decision says — payer, scheme, prescription form, blockers — and
//! per medicine, with examples to look up in the audit trail.
//!
//! Pure: the edge replays the audit trail and feeds [`Impact::add`] pairs of outcomes; the
//! outcomes are kept as the contract's codes, so a decision given under older rule data (with a
//! code no longer used) is compared as it was written.

use std::collections::BTreeMap;

use crate::Decision;

/// What a decision says, as the contract's codes; or that it was an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A decision.
    Decided {
        /// `payer`.
        payer: String,
        /// `scheme`.
        scheme: String,
        /// `prescription`.
        prescription: String,
        /// `blockers[].code`, sorted.
        blockers: Vec<String>,
    },
    /// No decision: the field the error names.
    Error(String),
}

impl Outcome {
    /// The outcome of a decision just made.
    pub fn of(d: &Decision<'_>) -> Outcome {
        let mut blockers: Vec<String> = d
            .blockers
            .iter()
            .map(|b| b.code.code().to_string())
            .collect();
        blockers.sort();
        Outcome::Decided {
            payer: d.payer.code().into(),
            scheme: d.scheme.code().into(),
            prescription: d.prescription.code().into(),
            blockers,
        }
    }

    /// The four things compared, by name; an error counts as the same text in each.
    fn fields(&self) -> [(&'static str, String); 4] {
        match self {
            Outcome::Decided {
                payer,
                scheme,
                prescription,
                blockers,
            } => [
                ("payer", payer.clone()),
                ("scheme", scheme.clone()),
                ("prescription", prescription.clone()),
                (
                    "blockers",
                    if blockers.is_empty() {
                        "ingen".into()
                    } else {
                        blockers.join("+")
                    },
                ),
            ],
            Outcome::Error(field) => {
                let e = format!("feil ({field})");
                [
                    ("payer", e.clone()),
                    ("scheme", e.clone()),
                    ("prescription", e.clone()),
                    ("blockers", e),
                ]
            }
        }
    }
}

/// A change of one field, from one value to another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Transition {
    /// `payer`, `scheme`, `prescription` or `blockers`.
    pub field: &'static str,
    /// Before.
    pub from: String,
    /// After.
    pub to: String,
}

/// How often a transition happened, and where to see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Decisions.
    pub decisions: u64,
    /// Up to the impact's `examples` of them (their place in the audit trail).
    pub examples: Vec<String>,
}

/// A medicine's decisions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Medicine {
    /// Decisions replayed.
    pub decisions: u64,
    /// Decisions with any change.
    pub changed: u64,
    /// Its transitions.
    pub transitions: BTreeMap<Transition, u64>,
}

/// The whole comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impact {
    /// Examples kept per transition.
    pub examples: usize,
    /// Decisions replayed.
    pub decisions: u64,
    /// Decisions with any change.
    pub changed: u64,
    /// Per transition.
    pub transitions: BTreeMap<Transition, Count>,
    /// Per medicine (`ATC substance`).
    pub medicines: BTreeMap<String, Medicine>,
}

impl Impact {
    /// An empty comparison keeping `examples` examples per transition.
    pub fn new(examples: usize) -> Impact {
        Impact {
            examples,
            ..Impact::default()
        }
    }

    /// Counts one decision: as given (`before`) and as it would be (`after`); `medicine` names
    /// it, `example` says where it is in the audit trail.
    pub fn add(&mut self, medicine: &str, before: &Outcome, after: &Outcome, example: &str) {
        self.decisions += 1;
        let m = self.medicines.entry(medicine.to_string()).or_default();
        m.decisions += 1;
        let mut changed = false;
        for ((field, from), (_, to)) in before.fields().into_iter().zip(after.fields()) {
            if from == to {
                continue;
            }
            changed = true;
            let t = Transition { field, from, to };
            *m.transitions.entry(t.clone()).or_default() += 1;
            let c = self.transitions.entry(t).or_default();
            c.decisions += 1;
            if c.examples.len() < self.examples {
                c.examples.push(example.to_string());
            }
        }
        if changed {
            self.changed += 1;
            m.changed += 1;
        }
    }

    /// Adds another part's counts (parts replayed in parallel); examples are kept up to the
    /// limit, this part's first.
    pub fn merge(&mut self, other: Impact) {
        self.decisions += other.decisions;
        self.changed += other.changed;
        for (t, c) in other.transitions {
            let mine = self.transitions.entry(t).or_default();
            mine.decisions += c.decisions;
            let room = self.examples.saturating_sub(mine.examples.len());
            mine.examples.extend(c.examples.into_iter().take(room));
        }
        for (name, m) in other.medicines {
            let mine = self.medicines.entry(name).or_default();
            mine.decisions += m.decisions;
            mine.changed += m.changed;
            for (t, n) in m.transitions {
                *mine.transitions.entry(t).or_default() += n;
            }
        }
    }

    /// The transitions, most frequent first.
    pub fn ranked(&self) -> Vec<(&Transition, &Count)> {
        let mut v: Vec<_> = self.transitions.iter().collect();
        v.sort_by(|a, b| b.1.decisions.cmp(&a.1.decisions).then_with(|| a.0.cmp(b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(payer: &str, scheme: &str, prescription: &str, blockers: &[&str]) -> Outcome {
        Outcome::Decided {
            payer: payer.into(),
            scheme: scheme.into(),
            prescription: prescription.into(),
            blockers: blockers.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn a_move_to_the_h_list_counts_each_field_that_changes_once_per_decision() {
        let blue = decided("folketrygden", "s2", "blue", &[]);
        let h = decided("rhf", "h_list", "h", &["prescriber_not_qualified"]);
        let mut i = Impact::new(1);
        i.add("L04AB02 infliksimab", &blue, &h, "post 7");
        i.add("L04AB02 infliksimab", &blue, &h, "post 9");
        i.add("R03DC03 montelukast", &blue, &blue, "post 8");
        assert_eq!((i.decisions, i.changed), (3, 2));
        let payer = &i.transitions[&Transition {
            field: "payer",
            from: "folketrygden".into(),
            to: "rhf".into(),
        }];
        assert_eq!(payer.decisions, 2);
        assert_eq!(payer.examples, ["post 7"], "one example kept");
        assert_eq!(
            i.transitions.len(),
            4,
            "payer, scheme, prescription and blockers"
        );
        assert_eq!(i.medicines["R03DC03 montelukast"].changed, 0);
        assert_eq!(i.medicines["L04AB02 infliksimab"].changed, 2);
    }

    #[test]
    fn parts_merged_give_the_counts_of_the_whole() {
        let a = decided("folketrygden", "s2", "blue", &[]);
        let b = decided("hf", "hf_off_label", "white_note", &[]);
        let e = Outcome::Error("date".into());
        let pairs = [(&a, &b), (&a, &a), (&b, &e), (&a, &b), (&e, &a)];
        let mut whole = Impact::new(5);
        let (mut left, mut right) = (Impact::new(5), Impact::new(5));
        for (n, (before, after)) in pairs.iter().enumerate() {
            whole.add("x", before, after, &n.to_string());
            if n % 2 == 0 {
                left.add("x", before, after, &n.to_string());
            } else {
                right.add("x", before, after, &n.to_string());
            }
        }
        left.merge(right);
        assert_eq!(left.decisions, whole.decisions);
        assert_eq!(left.changed, whole.changed);
        assert_eq!(left.medicines, whole.medicines);
        for (t, c) in &whole.transitions {
            assert_eq!(left.transitions[t].decisions, c.decisions);
        }
        assert_eq!(whole.ranked()[0].1.decisions, 2);
    }
}
