//! **E4** — in a shortage DMP may restrict dispensing (rationing in pharmacies) and prioritise
//! patient groups. A restriction is dated rule data; the pharmacy's dispensing is checked against
//! the ones in force, and a refusal names the restriction. When demand exceeds stock, what is left
//! above a reserve is shared in proportion to demand.

use domain::{Atc, Date};

/// One of DMP's restrictions.
#[derive(Clone, Debug, PartialEq)]
pub struct Restriction {
    /// Its id (DMP's reference, or the operator's).
    pub id: String,
    /// What it is, in bokmål, as a refusal names it.
    pub title: String,
    /// The medicines (ATC codes or groups).
    pub atc: Vec<Atc>,
    /// In force from.
    pub from: Date,
    /// In force until (inclusive), if it ends.
    pub until: Option<Date>,
    /// At most this many packages per dispensing (outside the prioritised groups).
    pub max_packages: Option<u32>,
    /// Patient groups that are prioritised: the maximum does not apply to them.
    pub priority_groups: Vec<String>,
    /// Only the prioritised groups may have it at all.
    pub only_priority_groups: bool,
}

impl Restriction {
    /// Whether it applies to `atc` on `date`.
    pub fn applies(&self, atc: &Atc, date: Date) -> bool {
        date >= self.from
            && self.until.is_none_or(|u| date <= u)
            && self.atc.iter().any(|a| atc == a || atc.is_in(a))
    }
}

/// A dispensing a restriction stops.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    /// The restriction.
    pub restriction: String,
    /// Why, in bokmål, naming it.
    pub message: String,
}

/// Checks a dispensing of `packages` of `atc` on `date` to a patient in `group` (if any)
/// against the restrictions.
pub fn check(
    restrictions: &[Restriction],
    atc: &Atc,
    date: Date,
    packages: u32,
    group: Option<&str>,
) -> Result<(), Refused> {
    for r in restrictions.iter().filter(|r| r.applies(atc, date)) {
        let prioritised = group.is_some_and(|g| r.priority_groups.iter().any(|p| p == g));
        if prioritised {
            continue;
        }
        if r.only_priority_groups {
            return Err(Refused {
                restriction: r.id.clone(),
                message: format!(
                    "rasjonering {} ({}): {} utleveres nå bare til prioriterte pasientgrupper ({}) (E4)",
                    r.id,
                    r.title,
                    atc,
                    r.priority_groups.join(", ")
                ),
            });
        }
        if let Some(max) = r.max_packages
            && packages > max
        {
            return Err(Refused {
                restriction: r.id.clone(),
                message: format!(
                    "rasjonering {} ({}): høyst {max} pakning(er) per utlevering av {atc}, ikke {packages} (E4)",
                    r.id, r.title
                ),
            });
        }
    }
    Ok(())
}

/// Shares `stock` minus `reserve` among `demands` in proportion to each, in whole packages
/// (largest remainders get the odd packages, ties to the first), never more than asked. When
/// everything asked fits above the reserve, everyone gets what they asked.
pub fn proportional(stock: i64, reserve: i64, demands: &[i64]) -> Vec<i64> {
    let free = (stock - reserve.max(0)).max(0);
    let asked: i64 = demands.iter().map(|d| d.max(&0)).sum();
    if asked <= free {
        return demands.iter().map(|d| (*d).max(0)).collect();
    }
    // Each gets floor(free × d / asked); the remainder goes by largest fraction.
    let mut shares: Vec<(usize, i64, i128)> = demands
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = i128::from((*d).max(0));
            let exact = i128::from(free) * d;
            let whole = exact / i128::from(asked);
            (i, whole as i64, exact % i128::from(asked))
        })
        .collect();
    let given: i64 = shares.iter().map(|s| s.1).sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2).then(a.cmp(b)));
    for i in order.into_iter().take((free - given) as usize) {
        shares[i].1 += 1;
    }
    shares.into_iter().map(|s| s.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn restriction() -> Restriction {
        Restriction {
            id: "DMP-2026-01".into(),
            title: "mangel på amoksicillin mikstur".into(),
            atc: vec![Atc::parse("J01CA04").unwrap()],
            from: d("2026-01-10"),
            until: Some(d("2026-03-31")),
            max_packages: Some(1),
            priority_groups: vec!["barn".into()],
            only_priority_groups: false,
        }
    }

    #[test]
    fn e4_a_restriction_caps_each_dispensing_except_for_prioritised_groups() {
        let r = [restriction()];
        let amox = Atc::parse("J01CA04").unwrap();
        let e = check(&r, &amox, d("2026-02-01"), 2, None).unwrap_err();
        assert_eq!(e.restriction, "DMP-2026-01");
        assert!(e.message.contains("høyst 1 pakning"), "{e}");
        assert!(check(&r, &amox, d("2026-02-01"), 1, None).is_ok());
        assert!(check(&r, &amox, d("2026-02-01"), 3, Some("barn")).is_ok());
        assert!(check(&r, &amox, d("2026-04-01"), 3, None).is_ok(), "ended");
        let mut only = restriction();
        only.only_priority_groups = true;
        assert!(check(&[only], &amox, d("2026-02-01"), 1, None).is_err());
    }

    #[test]
    fn what_is_above_the_reserve_is_shared_in_proportion() {
        assert_eq!(proportional(100, 20, &[40, 40, 80]), vec![20, 20, 40]);
        assert_eq!(
            proportional(100, 20, &[10, 20]),
            vec![10, 20],
            "enough for all"
        );
        assert_eq!(proportional(10, 0, &[1, 1, 1]), vec![1, 1, 1]);
        assert_eq!(
            proportional(2, 0, &[1, 1, 1]),
            vec![1, 1, 0],
            "odd packages to the first"
        );
        assert_eq!(
            proportional(5, 10, &[3]),
            vec![0],
            "nothing under the reserve"
        );
    }

    proptest! {
        /// The shares never exceed what is free above the reserve, never exceed a demand, and
        /// use all that is free when demand exceeds it.
        #[test]
        fn proportional_shares_conserve_stock(stock in 0i64..10_000, reserve in 0i64..2_000, demands in prop::collection::vec(0i64..3_000, 0..20)) {
            let shares = proportional(stock, reserve, &demands);
            let free = (stock - reserve).max(0);
            let total: i64 = shares.iter().sum();
            let asked: i64 = demands.iter().sum();
            prop_assert!(total <= free.max(0) || asked <= free);
            prop_assert_eq!(total, asked.min(free));
            for (s, d) in shares.iter().zip(&demands) {
                prop_assert!(*s >= 0 && s <= d);
            }
        }
    }
}
