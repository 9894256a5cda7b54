//! The invariants of the charge (issue 10, point 6), over any prices, years and rule data:
//! what the patient and the payer pay adds up to the price exactly; nothing is negative (the
//! arithmetic is unsigned, so an underflow would panic here); the yearly ceiling is never
//! passed, however many dispensings the year has.

use dispense::charge::{ChargeFacts, Exemption, charge};
use domain::Ore;
use proptest::prelude::*;
use ruleset::{CapPer, Copayment};

fn rules() -> impl Strategy<Value = Copayment> {
    (0u8..=100, 0u64..200_000, any::<bool>(), 0u64..1_000_000).prop_map(
        |(share, cap, per_dispensing, ceiling)| Copayment {
            share_percent: share,
            cap: Ore(cap),
            cap_per: if per_dispensing {
                CapPer::Dispensing
            } else {
                CapPer::Prescription
            },
            yearly_ceiling: Ore(ceiling),
            unconfirmed: Vec::new(),
            no_copayment_under_age: 16,
        },
    )
}

fn exemption() -> impl Strategy<Value = Option<Exemption>> {
    prop_oneof![
        4 => Just(None),
        1 => prop::sample::select(vec![
            Exemption::Section4,
            Exemption::Palliative,
            Exemption::HPrescription,
            Exemption::TrustPays,
            Exemption::Child,
        ])
        .prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_parts_add_up_to_the_price_and_the_ceiling_holds_all_year(
        rules in rules(),
        year in prop::collection::vec(
            (1u64..5_000_000, prop::option::of(0u64..5_000_000), exemption(), 0u64..100_000),
            1..40,
        ),
    ) {
        let mut counted = 0u64;
        for (price, cheaper, exemption, same_cap) in year {
            let facts = ChargeFacts {
                dispensed_price: Ore(price),
                refused_cheaper_price: cheaper.map(Ore),
                exemption,
                counted_this_year: Ore(counted),
                charged_under_same_cap: Ore(same_cap),
            };
            let c = charge(&facts, &rules);
            prop_assert_eq!(c.copayment.0 + c.difference.0 + c.payer.0, price);
            prop_assert!(c.counts_toward_ceiling.0 <= c.copayment.0);
            if exemption.is_some() {
                prop_assert_eq!(c.copayment.0, 0);
            }
            prop_assert!(c.copayment.0 <= rules.cap.0, "never more than the cap");
            counted += c.counts_toward_ceiling.0;
            prop_assert!(
                counted <= rules.yearly_ceiling.0,
                "counted {} past the ceiling {}", counted, rules.yearly_ceiling.0
            );
        }
    }
}
