//! What the patient pays at the pharmacy and what the payer is billed (§ 8, B7): pure
//! arithmetic in whole øre over the facts of one dispensing and the patient's year so far.
//!
//! The rules, in the order domain.md § 8 states them:
//! 1. **Who pays at all.** No co-payment on § 4, on refund code -90 (B6), on H-prescriptions,
//!    on what a trust pays (a white prescription with the trust's note), for children under 16
//!    (the age on the dispensing date), for minimum pensioners and for occupational injury.
//! 2. **The co-payment** is the share of the price (50 % until 2025, 60 % from 2026), at most
//!    the cap (520 kr per prescription until 2025, where blue prescriptions from the same doctor
//!    on the same day count as one; 400 kr per dispensing from 2026). Rounded down to whole øre:
//!    the patient is never charged a fraction they do not owe.
//! 3. **The yearly ceiling** (egenandelstak): what counts toward it this calendar year never
//!    goes past it; once it is reached the patient pays no more co-payment that year.
//! 4. **Substitution refused without a reservation (B7):** the co-payment is computed on the
//!    cheaper product offered, and the patient also pays the difference in price, which does
//!    not count toward the ceiling. With the doctor's reservation it is computed on the product
//!    prescribed, and there is no difference to pay.
//!
//! The payer is billed the rest: the lines always add up to the price of what was handed out.

use domain::Ore;
use ruleset::{CapPer, Copayment};

/// Why a dispensing carries no co-payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exemption {
    /// § 4 (communicable disease).
    Section4,
    /// Refund code -90 (palliative care in the last phase of life, B6).
    Palliative,
    /// H-prescription: the regional health authority pays.
    HPrescription,
    /// A trust pays (white prescription with its note, off-label in specialist care).
    TrustPays,
    /// A child under the age in the rule data.
    Child,
    /// Minimum pensioner.
    MinimumPensioner,
    /// Occupational injury (yrkesskade).
    OccupationalInjury,
}

impl Exemption {
    /// The reason in Norwegian, for the answer's `basis`.
    pub fn describe(self) -> &'static str {
        match self {
            Exemption::Section4 => "§ 4: ingen egenandel",
            Exemption::Palliative => "refusjonskode -90: ingen egenandel",
            Exemption::HPrescription => "H-resept: ingen egenandel",
            Exemption::TrustPays => "helseforetaket betaler: ingen egenandel",
            Exemption::Child => "barn under 16 år: ingen egenandel",
            Exemption::MinimumPensioner => "minstepensjonist: ingen egenandel",
            Exemption::OccupationalInjury => "yrkesskade: ingen egenandel",
        }
    }
}

/// The facts of one dispensing that decide the charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeFacts {
    /// The price (AUP on the date) of the package handed out.
    pub dispensed_price: Ore,
    /// When the patient refused substitution without the doctor's reservation: the price of the
    /// cheaper package that was offered. `None` otherwise (accepted, or reserved).
    pub refused_cheaper_price: Option<Ore>,
    /// Why there is no co-payment, if there is a reason.
    pub exemption: Option<Exemption>,
    /// Co-payment the patient has paid this calendar year that counts toward the ceiling.
    pub counted_this_year: Ore,
    /// Until 2025 (cap per prescription): co-payment already charged today on blue
    /// prescriptions from the same doctor, which share one cap.
    pub charged_under_same_cap: Ore,
}

/// What the patient pays and the payer is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The co-payment.
    pub copayment: Ore,
    /// The part of it that counts toward the yearly ceiling (all of it).
    pub counts_toward_ceiling: Ore,
    /// The price difference the patient pays for refusing substitution (never counted).
    pub difference: Ore,
    /// What the payer is billed.
    pub payer: Ore,
}

impl Charge {
    /// What the patient pays in all.
    pub fn patient(&self) -> Ore {
        Ore(self.copayment.0 + self.difference.0)
    }
}

/// The charge of one dispensing under the co-payment rules in force on its date.
pub fn charge(facts: &ChargeFacts, rules: &Copayment) -> Charge {
    let price = facts.dispensed_price.0;
    // B7: a refusal without reservation moves the basis to the cheaper product, and the patient
    // pays the difference. A "cheaper" price above the dispensed one is no difference at all.
    let (basis, difference) = match facts.refused_cheaper_price {
        Some(cheaper) if cheaper.0 < price => (cheaper.0, price - cheaper.0),
        _ => (price, 0),
    };
    if facts.exemption.is_some() {
        return Charge {
            copayment: Ore(0),
            counts_toward_ceiling: Ore(0),
            difference: Ore(difference),
            payer: Ore(price - difference),
        };
    }
    let share = basis * u64::from(rules.share_percent) / 100;
    let cap_left = match rules.cap_per {
        CapPer::Dispensing => rules.cap.0,
        CapPer::Prescription => rules.cap.0.saturating_sub(facts.charged_under_same_cap.0),
    };
    let ceiling_left = rules
        .yearly_ceiling
        .0
        .saturating_sub(facts.counted_this_year.0);
    let copayment = share.min(cap_left).min(ceiling_left);
    Charge {
        copayment: Ore(copayment),
        counts_toward_ceiling: Ore(copayment),
        difference: Ore(difference),
        payer: Ore(price - difference - copayment),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_2026() -> Copayment {
        Copayment {
            share_percent: 60,
            cap: Ore(40_000),
            cap_per: CapPer::Dispensing,
            yearly_ceiling: Ore(327_800),
            unconfirmed: Vec::new(),
            no_copayment_under_age: 16,
        }
    }

    fn rules_2025() -> Copayment {
        Copayment {
            share_percent: 50,
            cap: Ore(52_000),
            cap_per: CapPer::Prescription,
            yearly_ceiling: Ore(327_800),
            ..rules_2026()
        }
    }

    fn facts(price: u64) -> ChargeFacts {
        ChargeFacts {
            dispensed_price: Ore(price),
            refused_cheaper_price: None,
            exemption: None,
            counted_this_year: Ore(0),
            charged_under_same_cap: Ore(0),
        }
    }

    #[test]
    fn the_share_is_taken_up_to_the_cap() {
        // 60 % of 312.40 kr = 187.44 kr.
        let c = charge(&facts(31_240), &rules_2026());
        assert_eq!((c.copayment, c.payer), (Ore(18_744), Ore(12_496)));
        // 60 % of 1 000 kr = 600 kr, capped at 400 kr per dispensing.
        let c = charge(&facts(100_000), &rules_2026());
        assert_eq!((c.copayment, c.payer), (Ore(40_000), Ore(60_000)));
        // Fractions of an øre are not charged: 60 % of 0.01 kr.
        assert_eq!(charge(&facts(1), &rules_2026()).copayment, Ore(0));
    }

    #[test]
    fn until_2025_the_same_doctors_prescriptions_on_one_day_share_the_cap() {
        let first = charge(&facts(80_000), &rules_2025());
        assert_eq!(first.copayment, Ore(40_000));
        let second = charge(
            &ChargeFacts {
                charged_under_same_cap: first.copayment,
                ..facts(80_000)
            },
            &rules_2025(),
        );
        assert_eq!(second.copayment, Ore(12_000), "520 kr in all");
    }

    #[test]
    fn the_yearly_ceiling_is_never_passed_and_then_nothing_more_is_paid() {
        let near = ChargeFacts {
            counted_this_year: Ore(327_800 - 5_000),
            ..facts(31_240)
        };
        let c = charge(&near, &rules_2026());
        assert_eq!(c.copayment, Ore(5_000));
        assert_eq!(c.payer, Ore(31_240 - 5_000));
        let reached = ChargeFacts {
            counted_this_year: Ore(327_800),
            ..facts(31_240)
        };
        assert_eq!(charge(&reached, &rules_2026()).copayment, Ore(0));
    }

    #[test]
    fn refusing_substitution_without_reservation_costs_the_difference_outside_the_ceiling() {
        let c = charge(
            &ChargeFacts {
                refused_cheaper_price: Some(Ore(20_000)),
                ..facts(31_240)
            },
            &rules_2026(),
        );
        // Co-payment on the cheaper product: 60 % of 200 kr = 120 kr; difference 112.40 kr.
        assert_eq!(c.copayment, Ore(12_000));
        assert_eq!(c.difference, Ore(11_240));
        assert_eq!(c.counts_toward_ceiling, Ore(12_000));
        assert_eq!(c.patient().0 + c.payer.0, 31_240);
        // Even after the ceiling, the difference is paid.
        let after = charge(
            &ChargeFacts {
                refused_cheaper_price: Some(Ore(20_000)),
                counted_this_year: Ore(327_800),
                ..facts(31_240)
            },
            &rules_2026(),
        );
        assert_eq!((after.copayment, after.difference), (Ore(0), Ore(11_240)));
    }

    #[test]
    fn an_exemption_means_no_co_payment() {
        for e in [
            Exemption::Section4,
            Exemption::Palliative,
            Exemption::HPrescription,
            Exemption::TrustPays,
            Exemption::Child,
            Exemption::MinimumPensioner,
            Exemption::OccupationalInjury,
        ] {
            let c = charge(
                &ChargeFacts {
                    exemption: Some(e),
                    ..facts(31_240)
                },
                &rules_2026(),
            );
            assert_eq!((c.copayment, c.payer), (Ore(0), Ore(31_240)), "{e:?}");
            assert!(!e.describe().is_empty());
        }
    }
}
