//! The approval exemption's rule data (legemiddelforskriften § 2-5): how long an exemption may
//! last and DMP's negative list (`G1`), and the transition when a product with MT replaces
//! unregistered ones (`G3`), validated on load.

use domain::{Atc, Date};

use crate::raw::{RawApprovalExemption, RawTransitionRules};

/// An ATC group on DMP's negative list: products in it need DMP's approval first.
#[derive(Clone, Debug)]
pub struct NegativeGroup {
    /// The group (or a single code).
    pub atc: Atc,
    /// Why, in bokmål ("vaksiner").
    pub reason: String,
}

/// A substance named on DMP's negative list.
#[derive(Clone, Debug)]
pub struct NegativeSubstance {
    /// As named, lower-cased for the comparison.
    pub substance_folded: String,
    /// As named.
    pub substance: String,
    /// Its ATC code, where given.
    pub atc: Option<Atc>,
    /// Why.
    pub reason: String,
}

/// `G1`: the limits of an exemption and the negative list.
#[derive(Clone, Debug)]
pub struct ExemptionRules {
    /// "for a stated quantity or period of at most 1 year": the longest period, in days.
    pub max_period_days: u32,
    /// DMP's usual handling time for an application, in working days (shown, not enforced).
    pub dmp_handling_working_days: u32,
    /// The negative list's ATC groups.
    pub negative_groups: Vec<NegativeGroup>,
    /// The negative list's named substances.
    pub negative_substances: Vec<NegativeSubstance>,
    /// Parts the sources do not confirm.
    pub unconfirmed: Vec<String>,
}

impl ExemptionRules {
    /// Why the product is on the negative list by its ATC code or substance, if it is.
    pub fn negative_reason(&self, atc: &Atc, substance: &str) -> Option<String> {
        let folded = substance.trim().to_lowercase();
        if let Some(s) = self
            .negative_substances
            .iter()
            .find(|s| s.substance_folded == folded || s.atc.is_some_and(|a| &a == atc))
        {
            return Some(format!("{} ({})", s.reason, s.substance));
        }
        self.negative_groups
            .iter()
            .find(|g| atc == &g.atc || atc.is_in(&g.atc))
            .map(|g| format!("{} ({})", g.reason, g.atc))
    }
}

/// A product with MT that replaces unregistered ones (G3).
#[derive(Clone, Debug)]
pub struct Replacement {
    /// The marketed product.
    pub marketed: String,
    /// The ATC code it replaces unregistered products of.
    pub atc: Atc,
    /// The day it entered the Norwegian market.
    pub marketed_from: Date,
    /// How many days, counting the market day, the unregistered products may still be dispensed.
    pub transition_days: u32,
    /// The last day the unregistered products may be dispensed: the market day is day one of
    /// the transition (reading: "up to 90 days" counts the market day).
    pub last_day: Date,
    /// Where this is announced.
    pub source: String,
}

/// `G3`: the transitions in force.
#[derive(Clone, Debug)]
pub struct TransitionRules {
    /// The longest transition the regulation allows (90 days).
    pub max_transition_days: u32,
    /// The replacements announced.
    pub replacements: Vec<Replacement>,
}

impl TransitionRules {
    /// The replacement of an unregistered product with this ATC code that has begun by `date`,
    /// if any (the latest, when several).
    pub fn replacing(&self, atc: &Atc, date: Date) -> Option<&Replacement> {
        self.replacements
            .iter()
            .filter(|r| &r.atc == atc && r.marketed_from <= date)
            .max_by_key(|r| r.marketed_from)
    }
}

pub(crate) fn build(r: RawApprovalExemption) -> Result<ExemptionRules, String> {
    if !(1..=366).contains(&r.max_period_days) {
        return Err(
            "max_period_days: ventet 1–366 (høyst ett år, legemiddelforskriften § 2-5)".into(),
        );
    }
    if !(1..=60).contains(&r.dmp_handling_working_days) {
        return Err("dmp_handling_working_days: ventet 1–60".into());
    }
    let mut negative_groups = Vec::new();
    for g in r.negative_group {
        if g.reason.trim().is_empty() {
            return Err(format!(
                "negative_group {}: reason kan ikke være tom",
                g.atc.0
            ));
        }
        negative_groups.push(NegativeGroup {
            atc: g.atc.0,
            reason: g.reason,
        });
    }
    let mut negative_substances = Vec::new();
    for s in r.negative_substance {
        if s.substance.trim().is_empty() || s.reason.trim().is_empty() {
            return Err("negative_substance: substance og reason kan ikke være tomme".into());
        }
        negative_substances.push(NegativeSubstance {
            substance_folded: s.substance.trim().to_lowercase(),
            substance: s.substance,
            atc: s.atc.map(|a| a.0),
            reason: s.reason,
        });
    }
    Ok(ExemptionRules {
        max_period_days: r.max_period_days,
        dmp_handling_working_days: r.dmp_handling_working_days,
        negative_groups,
        negative_substances,
        unconfirmed: r.unconfirmed,
    })
}

pub(crate) fn build_transitions(r: RawTransitionRules) -> Result<TransitionRules, String> {
    if !(1..=90).contains(&r.max_transition_days) {
        return Err("max_transition_days: ventet 1–90 (G3: inntil 90 dager)".into());
    }
    let mut replacements = Vec::new();
    for x in r.replacement {
        if x.marketed.trim().is_empty() || x.source.trim().is_empty() {
            return Err("replacement: marketed og source kan ikke være tomme".into());
        }
        if !(1..=r.max_transition_days).contains(&x.transition_days) {
            return Err(format!(
                "replacement «{}»: transition_days må være 1–{} (G3)",
                x.marketed, r.max_transition_days
            ));
        }
        let last_day = x
            .marketed_from
            .0
            .plus_days(x.transition_days - 1)
            .ok_or_else(|| format!("replacement «{}»: datoen er utenfor kalenderen", x.marketed))?;
        replacements.push(Replacement {
            last_day,
            marketed: x.marketed,
            atc: x.atc.0,
            marketed_from: x.marketed_from.0,
            transition_days: x.transition_days,
            source: x.source,
        });
    }
    Ok(TransitionRules {
        max_transition_days: r.max_transition_days,
        replacements,
    })
}
