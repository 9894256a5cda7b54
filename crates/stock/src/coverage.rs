//! **E1, E2** — how much must be held, and how long what is held lasts.
//!
//! E1: primary care — three to six months (per substance) of last year's pharmacy sales, on top
//! of the wholesalers' ordinary stock of 20 days' sales. E2: specialist care — up to 180 days at
//! the hospitals' main wholesaler, on top of the same 20 days. A month is a twelfth of a year
//! here (365/12 days): the seed counts months of consumption, not calendar months.

use domain::Date;

use crate::LotStock;

/// The stock a substance must be held at, in days of last year's sales.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requirement {
    /// The emergency stock, in days (E1: months × 365/12; E2: the days given).
    pub emergency_days: f64,
    /// The ordinary stock on top (20 days' sales).
    pub ordinary_days: u32,
}

impl Requirement {
    /// E1: `months` of primary-care consumption on top of the ordinary stock.
    pub fn primary_care(months: u32, ordinary_days: u32) -> Requirement {
        Requirement {
            emergency_days: f64::from(months) * 365.0 / 12.0,
            ordinary_days,
        }
    }

    /// E2: `days` of specialist-care consumption on top of the ordinary stock.
    pub fn specialist_care(days: u32, ordinary_days: u32) -> Requirement {
        Requirement {
            emergency_days: f64::from(days),
            ordinary_days,
        }
    }

    /// Days of sales in all.
    pub fn days(&self) -> f64 {
        self.emergency_days + f64::from(self.ordinary_days)
    }

    /// Packages to hold, given the last 12 months' sales: whole packages, rounded up.
    pub fn packages(&self, yearly_sales: i64) -> i64 {
        (yearly_sales.max(0) as f64 * self.days() / 365.0).ceil() as i64
    }
}

/// How long a stock lasts against a year's sales, against its requirement.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    /// Packages on hand (usable lots).
    pub stock: i64,
    /// Packages sold over the last 12 months.
    pub yearly_sales: i64,
    /// Days the stock lasts at last year's rate (`None`: nothing was sold).
    pub days: Option<f64>,
    /// Days required.
    pub target_days: f64,
    /// Packages required.
    pub target_packages: i64,
}

impl Coverage {
    /// The coverage of `stock` against `yearly_sales` and `requirement`.
    pub fn new(stock: i64, yearly_sales: i64, requirement: &Requirement) -> Coverage {
        Coverage {
            stock,
            yearly_sales,
            days: (yearly_sales > 0).then(|| stock as f64 * 365.0 / yearly_sales as f64),
            target_days: requirement.days(),
            target_packages: requirement.packages(yearly_sales),
        }
    }

    /// Whether the stock is below what is required.
    pub fn below_target(&self) -> bool {
        self.stock < self.target_packages
    }

    /// Packages missing to reach the requirement (0 when met).
    pub fn missing(&self) -> i64 {
        (self.target_packages - self.stock).max(0)
    }
}

/// Lots that expire within `window_days` of `today` (and have stock), soonest first: to be
/// rolled out to ordinary sale before they expire on the shelf (E3).
pub fn expiring(lots: &[LotStock], today: Date, window_days: u32) -> Vec<&LotStock> {
    let until = today.plus_days(window_days).unwrap_or(today);
    let mut out: Vec<&LotStock> = lots
        .iter()
        .filter(|l| l.available > 0 && l.expiry >= today && l.expiry <= until)
        .collect();
    out.sort_by(|a, b| (a.expiry, &a.lot).cmp(&(b.expiry, &b.lot)));
    out
}

/// One wholesaler's stock of a substance, for a simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Holder {
    /// The wholesaler.
    pub id: String,
    /// Packages on hand.
    pub stock: i64,
    /// Packages sold over the last 12 months.
    pub yearly_sales: i64,
}

/// What a supply stop does to one wholesaler.
#[derive(Clone, Debug, PartialEq)]
pub struct HolderOutcome {
    /// The wholesaler.
    pub id: String,
    /// Days its stock lasts at last year's rate.
    pub days: Option<f64>,
    /// The day (from the start of the stop, 1-based) it runs out, if before supply returns.
    pub empty_on_day: Option<u32>,
    /// Packages its customers would lack over the stop.
    pub shortfall: i64,
}

/// What a supply stop of `stop_days` does: per wholesaler and nationally, and the day
/// rationing would start — the first day the national stock lasts fewer than
/// `rationing_below_days` more days (a threshold in the rule data, E4).
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// Per wholesaler.
    pub holders: Vec<HolderOutcome>,
    /// National days of coverage at the start.
    pub national_days: Option<f64>,
    /// The day rationing starts, if within the stop.
    pub rationing_from_day: Option<u32>,
    /// Packages lacking nationally over the stop.
    pub national_shortfall: i64,
    /// The reserve kept back when rationing (E4): `rationing_below_days` of national sales,
    /// for the prioritised groups.
    pub reserve: i64,
    /// When the stop's demand exceeds the national stock: each wholesaler's share of the stock
    /// above the reserve, in proportion to its customers' demand over the stop
    /// ([`crate::rationing::proportional`]); empty when everyone can be served.
    pub rationed_shares: Vec<i64>,
}

/// Simulates a supply stop: nothing arrives for `stop_days`, sales go on at last year's daily
/// rate, each wholesaler serving its own customers.
pub fn simulate_stop(holders: &[Holder], stop_days: u32, rationing_below_days: u32) -> Simulation {
    let outcome = |stock: i64, yearly: i64| {
        let daily = yearly.max(0) as f64 / 365.0;
        let days = (daily > 0.0).then(|| stock as f64 / daily);
        let empty = days.and_then(|d| {
            let day = d.floor() as u32 + 1;
            (day <= stop_days).then_some(day)
        });
        let shortfall = ((daily * f64::from(stop_days)).ceil() as i64 - stock).max(0);
        (days, empty, shortfall)
    };
    let outcomes: Vec<HolderOutcome> = holders
        .iter()
        .map(|h| {
            let (days, empty_on_day, shortfall) = outcome(h.stock, h.yearly_sales);
            HolderOutcome {
                id: h.id.clone(),
                days,
                empty_on_day,
                shortfall,
            }
        })
        .collect();
    let stock: i64 = holders.iter().map(|h| h.stock).sum();
    let yearly: i64 = holders.iter().map(|h| h.yearly_sales).sum();
    let (national_days, _, _) = outcome(stock, yearly);
    // Rationing starts on the first day whose remaining coverage is under the threshold.
    let rationing_from_day = national_days.and_then(|d| {
        let remaining_first = d - f64::from(rationing_below_days);
        let day = if remaining_first < 0.0 {
            1
        } else {
            remaining_first.floor() as u32 + 1
        };
        (day <= stop_days).then_some(day)
    });
    let demands: Vec<i64> = holders
        .iter()
        .map(|h| (h.yearly_sales.max(0) as f64 / 365.0 * f64::from(stop_days)).ceil() as i64)
        .collect();
    let reserve = (yearly.max(0) as f64 / 365.0 * f64::from(rationing_below_days)).ceil() as i64;
    let rationed_shares = if demands.iter().sum::<i64>() > stock {
        crate::rationing::proportional(stock, reserve, &demands)
    } else {
        Vec::new()
    };
    Simulation {
        national_shortfall: outcomes.iter().map(|o| o.shortfall).sum(),
        holders: outcomes,
        national_days,
        rationing_from_day,
        reserve,
        rationed_shares,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e1_requirement_is_months_of_last_years_sales_plus_twenty_days() {
        // 3650 packages a year = 10 a day; 4 months ≈ 121.7 days + 20 = 141.7 days → 1417.
        let r = Requirement::primary_care(4, 20);
        assert_eq!(r.packages(3650), 1417);
        let c = Coverage::new(1000, 3650, &r);
        assert_eq!(c.days, Some(100.0));
        assert!(c.below_target());
        assert_eq!(c.missing(), 417);
        // E2: 180 days + 20 at the main wholesaler.
        assert_eq!(Requirement::specialist_care(180, 20).packages(365), 200);
        assert_eq!(Coverage::new(5, 0, &r).days, None, "nothing sold: no rate");
    }

    #[test]
    fn a_supply_stop_shows_who_runs_out_and_when_rationing_starts() {
        let holders = [
            Holder {
                id: "AHN".into(),
                stock: 300,
                yearly_sales: 3650,
            },
            Holder {
                id: "NMD".into(),
                stock: 50,
                yearly_sales: 1825,
            },
        ];
        let s = simulate_stop(&holders, 60, 20);
        assert_eq!(s.holders[0].days, Some(30.0));
        assert_eq!(s.holders[0].empty_on_day, Some(31));
        assert_eq!(s.holders[0].shortfall, 300);
        assert_eq!(s.holders[1].empty_on_day, Some(11));
        // National: 350 packages at 15 a day ≈ 23.3 days; under 20 days left from day 4.
        assert_eq!(s.rationing_from_day, Some(4));
        assert_eq!(s.national_shortfall, 300 + 250);
        // 350 in stock, 300 kept back (20 days × 15 a day); the 50 above it shared 600:300 —
        // 33.3 and 16.7, the odd package to the larger remainder.
        assert_eq!(s.reserve, 300);
        assert_eq!(s.rationed_shares, vec![33, 17]);
        let short = simulate_stop(&holders, 2, 20);
        assert_eq!(
            (short.rationing_from_day, short.holders[0].empty_on_day),
            (None, None)
        );
    }

    #[test]
    fn lots_near_expiry_are_listed_soonest_first() {
        let d = |s: &str| Date::parse(s).unwrap();
        let lots = [
            LotStock {
                lot: "B".into(),
                expiry: d("2026-03-01"),
                available: 5,
            },
            LotStock {
                lot: "A".into(),
                expiry: d("2026-02-01"),
                available: 5,
            },
            LotStock {
                lot: "C".into(),
                expiry: d("2026-09-01"),
                available: 5,
            },
            LotStock {
                lot: "D".into(),
                expiry: d("2026-02-10"),
                available: 0,
            },
        ];
        let soon: Vec<&str> = expiring(&lots, d("2026-01-15"), 60)
            .iter()
            .map(|l| l.lot.as_str())
            .collect();
        assert_eq!(soon, ["A", "B"]);
    }
}
