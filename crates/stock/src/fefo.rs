//! **E3** — first expiry, first out: a delivery is taken from the lots that expire first, so
//! nothing expires on the shelf; an expired lot is never delivered; what cannot be delivered is
//! said, never taken from stock that is not there.

use domain::Date;

/// A lot's usable stock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LotStock {
    /// The lot number.
    pub lot: String,
    /// The last day it may be delivered.
    pub expiry: Date,
    /// Packages on hand (the ledger's balance).
    pub available: i64,
}

/// One pick of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pick {
    /// From this lot.
    pub lot: String,
    /// Its expiry.
    pub expiry: Date,
    /// Packages.
    pub quantity: i64,
}

/// How a delivery is to be made.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Allocation {
    /// The picks, shortest expiry first.
    pub picks: Vec<Pick>,
    /// Packages that could not be delivered (0 when all could).
    pub shortfall: i64,
}

/// Picks `quantity` packages for delivery on `date`: lots by expiry, then lot number (a stable
/// order for the same expiry), skipping lots expired by `date` and lots with nothing on hand.
pub fn allocate(lots: &[LotStock], quantity: i64, date: Date) -> Allocation {
    let mut usable: Vec<&LotStock> = lots
        .iter()
        .filter(|l| l.expiry >= date && l.available > 0)
        .collect();
    usable.sort_by(|a, b| (a.expiry, &a.lot).cmp(&(b.expiry, &b.lot)));
    let mut left = quantity.max(0);
    let mut picks = Vec::new();
    for lot in usable {
        if left == 0 {
            break;
        }
        let take = left.min(lot.available);
        picks.push(Pick {
            lot: lot.lot.clone(),
            expiry: lot.expiry,
            quantity: take,
        });
        left -= take;
    }
    Allocation {
        picks,
        shortfall: left,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn lot(lot: &str, expiry: &str, available: i64) -> LotStock {
        LotStock {
            lot: lot.into(),
            expiry: d(expiry),
            available,
        }
    }

    #[test]
    fn the_shortest_expiry_leaves_first_and_expired_lots_never() {
        let lots = [
            lot("C", "2027-06-30", 50),
            lot("A", "2026-01-31", 100),
            lot("B", "2026-12-31", 20),
        ];
        let a = allocate(&lots, 60, d("2026-03-01"));
        assert_eq!(
            a.picks,
            vec![
                Pick {
                    lot: "B".into(),
                    expiry: d("2026-12-31"),
                    quantity: 20
                },
                Pick {
                    lot: "C".into(),
                    expiry: d("2027-06-30"),
                    quantity: 40
                },
            ],
            "A expired in January"
        );
        assert_eq!(a.shortfall, 0);
        let a = allocate(&lots, 100, d("2026-03-01"));
        assert_eq!(a.shortfall, 30, "the shortfall is said, not taken");
    }

    proptest! {
        /// FEFO never picks a later expiry while an earlier usable lot has stock left, never an
        /// expired lot, never more than a lot holds, and delivers exactly what is asked or says
        /// the shortfall.
        #[test]
        fn fefo_is_first_expiry_first_out(
            lots in prop::collection::vec((0u32..400, 0i64..50), 0..12),
            quantity in 0i64..400,
            today in 0u32..400,
        ) {
            let base = d("2026-01-01");
            let lots: Vec<LotStock> = lots.iter().enumerate().map(|(i, (days, n))| LotStock {
                lot: format!("L{i:02}"),
                expiry: base.plus_days(*days).unwrap(),
                available: *n,
            }).collect();
            let date = base.plus_days(today).unwrap();
            let a = allocate(&lots, quantity, date);
            let picked: i64 = a.picks.iter().map(|p| p.quantity).sum();
            prop_assert_eq!(picked + a.shortfall, quantity);
            for p in &a.picks {
                let l = lots.iter().find(|l| l.lot == p.lot).unwrap();
                prop_assert!(l.expiry >= date && p.quantity <= l.available && p.quantity > 0);
            }
            // Any usable lot with stock left must expire no earlier than every pick, but the last.
            let last = a.picks.last().map(|p| p.expiry);
            for l in lots.iter().filter(|l| l.expiry >= date && l.available > 0) {
                let taken: i64 = a.picks.iter().filter(|p| p.lot == l.lot).map(|p| p.quantity).sum();
                if taken < l.available
                    && let Some(last) = last
                {
                    prop_assert!(l.expiry >= last, "{} left while a later lot was picked", l.lot);
                }
            }
            let usable: i64 = lots.iter().filter(|l| l.expiry >= date).map(|l| l.available).sum();
            prop_assert_eq!(a.shortfall, (quantity - usable).max(0));
        }
    }
}
