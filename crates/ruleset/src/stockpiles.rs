//! The emergency stockpiles' rule data (`E1`, covering E1–E3) and DMP's restrictions in a
//! shortage (`E4`), validated on load.

use domain::Atc;
pub use stock::rationing::Restriction;

use crate::raw::{RawRationing, RawStockpiles};

/// A wholesaler with a stockpile duty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wholesaler {
    /// Short id, as events name it (`AHN`).
    pub id: String,
    /// Name.
    pub name: String,
}

/// A group of medicines covered, and for how long.
#[derive(Clone, Debug)]
pub struct CoveredGroup {
    /// The group's name in bokmål.
    pub name: String,
    /// ATC codes or groups.
    pub atc: Vec<Atc>,
    /// The requirement (without the ordinary days).
    pub requirement: Requirement,
}

/// How long a group must last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// E1: months of primary-care consumption (3–6).
    Months(u32),
    /// E2: days of specialist-care consumption (up to 180), at the specialist wholesaler.
    Days(u32),
}

/// `E1`: who holds stock, of what, and how much.
#[derive(Clone, Debug)]
pub struct StockpileRules {
    /// The ordinary stock on top, in days of sales.
    pub ordinary_days: u32,
    /// Rationing is considered below this many days of national coverage.
    pub rationing_below_days: u32,
    /// Lots expiring within this many days are flagged.
    pub expiry_window_days: u32,
    /// The wholesalers.
    pub wholesalers: Vec<Wholesaler>,
    /// The hospitals' main wholesaler (E2).
    pub specialist_wholesaler: String,
    /// Primary-care groups (E1).
    pub primary: Vec<CoveredGroup>,
    /// Specialist-care groups (E2).
    pub specialist: Vec<CoveredGroup>,
    /// Parts the sources do not confirm.
    pub unconfirmed: Vec<String>,
}

impl StockpileRules {
    /// The wholesaler with this id.
    pub fn wholesaler(&self, id: &str) -> Option<&Wholesaler> {
        self.wholesalers.iter().find(|w| w.id == id)
    }

    /// What `wholesaler` must hold of `atc`: the primary-care requirement (E1) at every
    /// wholesaler, plus the specialist-care one (E2) at the specialist wholesaler; `None` if the
    /// medicine is not covered there. The first group that names the code wins.
    pub fn requirement(&self, wholesaler: &str, atc: &Atc) -> Option<(stock::Requirement, String)> {
        let matches = |g: &&CoveredGroup| g.atc.iter().any(|a| atc == a || atc.is_in(a));
        let primary = self.primary.iter().find(matches);
        let specialist = (wholesaler == self.specialist_wholesaler)
            .then(|| self.specialist.iter().find(matches))
            .flatten();
        let days = |g: &CoveredGroup| match g.requirement {
            Requirement::Months(m) => f64::from(m) * 365.0 / 12.0,
            Requirement::Days(d) => f64::from(d),
        };
        let emergency = primary.map_or(0.0, days) + specialist.map_or(0.0, days);
        let name = match (primary, specialist) {
            (Some(p), Some(s)) => format!("{} + {}", p.name, s.name),
            (Some(g), None) | (None, Some(g)) => g.name.clone(),
            (None, None) => return None,
        };
        Some((
            stock::Requirement {
                emergency_days: emergency,
                ordinary_days: self.ordinary_days,
            },
            name,
        ))
    }
}

pub(crate) fn build(r: RawStockpiles) -> Result<StockpileRules, String> {
    if r.wholesaler.is_empty() {
        return Err("wholesaler: ventet minst én grossist".into());
    }
    let mut seen = std::collections::HashSet::new();
    for w in &r.wholesaler {
        if w.id.trim().is_empty() || !seen.insert(w.id.clone()) {
            return Err(format!(
                "wholesaler «{}»: id må være unik og ikke tom",
                w.id
            ));
        }
    }
    if !seen.contains(&r.specialist_wholesaler) {
        return Err(format!(
            "specialist_wholesaler «{}»: ventet en av grossistene ({})",
            r.specialist_wholesaler,
            r.wholesaler
                .iter()
                .map(|w| w.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !(1..=60).contains(&r.ordinary_days) {
        return Err("ordinary_days: ventet 1–60".into());
    }
    let mut primary = Vec::new();
    for g in r.primary {
        if !(3..=6).contains(&g.months) {
            return Err(format!("primary «{}»: months må være 3–6 (E1)", g.name));
        }
        if g.atc.is_empty() {
            return Err(format!("primary «{}»: atc kan ikke være tom", g.name));
        }
        primary.push(CoveredGroup {
            name: g.name,
            atc: g.atc.into_iter().map(|a| a.0).collect(),
            requirement: Requirement::Months(g.months),
        });
    }
    let mut specialist = Vec::new();
    for g in r.specialist {
        if !(1..=180).contains(&g.days) {
            return Err(format!("specialist «{}»: days må være 1–180 (E2)", g.name));
        }
        if g.atc.is_empty() {
            return Err(format!("specialist «{}»: atc kan ikke være tom", g.name));
        }
        specialist.push(CoveredGroup {
            name: g.name,
            atc: g.atc.into_iter().map(|a| a.0).collect(),
            requirement: Requirement::Days(g.days),
        });
    }
    Ok(StockpileRules {
        ordinary_days: r.ordinary_days,
        rationing_below_days: r.rationing_below_days,
        expiry_window_days: r.expiry_window_days,
        wholesalers: r
            .wholesaler
            .into_iter()
            .map(|w| Wholesaler {
                id: w.id,
                name: w.name,
            })
            .collect(),
        specialist_wholesaler: r.specialist_wholesaler,
        primary,
        specialist,
        unconfirmed: r.unconfirmed,
    })
}

pub(crate) fn build_rationing(r: RawRationing) -> Result<Vec<Restriction>, String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for x in r.restriction {
        if x.id.trim().is_empty() || !seen.insert(x.id.clone()) {
            return Err(format!(
                "restriction «{}»: id må være unik og ikke tom",
                x.id
            ));
        }
        if x.atc.is_empty() {
            return Err(format!("restriction «{}»: atc kan ikke være tom", x.id));
        }
        if x.until.as_ref().is_some_and(|u| u.0 < x.from.0) {
            return Err(format!("restriction «{}»: until ligger før from", x.id));
        }
        if x.max_packages.is_none() && !x.only_priority_groups {
            return Err(format!(
                "restriction «{}»: ventet max_packages eller only_priority_groups = true",
                x.id
            ));
        }
        if x.only_priority_groups && x.priority_groups.is_empty() {
            return Err(format!(
                "restriction «{}»: only_priority_groups krever priority_groups",
                x.id
            ));
        }
        out.push(Restriction {
            id: x.id,
            title: x.title,
            atc: x.atc.into_iter().map(|a| a.0).collect(),
            from: x.from.0,
            until: x.until.map(|u| u.0),
            max_packages: x.max_packages,
            priority_groups: x.priority_groups,
            only_priority_groups: x.only_priority_groups,
        });
    }
    Ok(out)
}
