//! Invariants of the case workflows, over any input: reading a form never panics; an off-label
//! case reaches "approved" only through a clinic head's recommendation and the approval of the
//! treating trust's medical director (and of the patient's trust, when there is one); a final
//! state is never left; a § 3 assessment of any valid form never panics and a caseworker is the
//! only one who decides what waits for one.

use cases::off_label::{self, CaseHead, Move, Request, State};
use cases::{Actor, Fields, Role};
use domain::Date;
use proptest::prelude::*;

const TRUSTS: [&str; 3] = ["OUS", "Helse Bergen HF", "Helse Stavanger HF"];

/// Mostly the people of the chain (so runs get far along it), sometimes anyone at all.
fn actor() -> impl Strategy<Value = Actor> {
    let any =
        (0..Role::ALL.len(), 0..TRUSTS.len() + 1, prop::bool::ANY).prop_map(|(r, t, author)| {
            Actor {
                subject: if author {
                    "lege".into()
                } else {
                    format!("annen-{r}")
                },
                name: "x".into(),
                role: Role::ALL[r],
                trust: TRUSTS.get(t).map(|t| t.to_string()),
            }
        });
    let cast = prop::sample::select(vec![
        ("lege", Role::Prescriber, 0),
        ("kl", Role::ClinicHead, 0),
        ("fd", Role::MedicalDirector, 0),
        ("fd2", Role::MedicalDirector, 1),
        ("fd3", Role::MedicalDirector, 2),
        ("kl2", Role::ClinicHead, 1),
    ])
    .prop_map(|(s, role, t)| Actor {
        subject: s.into(),
        name: s.into(),
        role,
        trust: Some(TRUSTS[t].into()),
    });
    prop_oneof![3 => cast, 1 => any]
}

fn movement() -> impl Strategy<Value = Request> {
    (
        0..Move::ALL.len(),
        "[a-zæøå ]{0,8}|grunn",
        prop::option::of(0usize..3),
    )
        .prop_map(|(m, reason, stop_rule)| Request {
            movement: Move::ALL[m],
            reason,
            stop_rule,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_chain_cannot_be_skipped(home in prop::option::of(1usize..3), steps in prop::collection::vec((actor(), movement()), 0..120)) {
        let today = Date::parse("2026-11-24").unwrap();
        let mut case = CaseHead {
            state: State::Draft,
            author: "lege".into(),
            treating_trust: TRUSTS[0].into(),
            home_trust: home.map(|h| TRUSTS[h].to_string()),
            evaluation_dates: vec![Date::parse("2027-01-01").unwrap()],
            stop_rules: vec!["Progresjon".into()],
            evaluations_done: 0,
        };
        let (mut recommended, mut approved_here, mut approved_home) = (false, false, false);
        for (who, request) in steps {
            let before = case.state;
            let Ok(outcome) = off_label::apply(&case, &request, &who, today) else { continue };
            prop_assert!(!before.is_final(), "left a final state {before:?}");
            prop_assert!(request.movement == Move::Submit || !request.reason.trim().is_empty());
            match (request.movement, outcome.to) {
                (Move::Recommend, _) => {
                    prop_assert_eq!(who.role, Role::ClinicHead);
                    prop_assert_eq!(who.trust.as_deref(), Some(TRUSTS[0]));
                    recommended = true;
                }
                (Move::Approve, State::AwaitingHomeTrust) => {
                    prop_assert!(recommended);
                    prop_assert_eq!(who.role, Role::MedicalDirector);
                    prop_assert_eq!(who.trust.as_deref(), Some(TRUSTS[0]));
                    approved_here = true;
                }
                (Move::Approve, State::Approved) => {
                    prop_assert_eq!(who.role, Role::MedicalDirector);
                    if case.home_trust.is_some() {
                        prop_assert!(approved_here);
                        prop_assert_eq!(who.trust.as_deref(), case.home_trust.as_deref());
                        approved_home = true;
                    } else {
                        prop_assert!(recommended);
                        approved_here = true;
                    }
                }
                (Move::Submit | Move::Withdraw, _) => prop_assert_eq!(&who.subject, "lege"),
                _ => {}
            }
            if outcome.to == State::Returned || outcome.to == State::Submitted {
                recommended = false;
                approved_here = false;
            }
            case.state = outcome.to;
            if outcome.to == State::Approved {
                prop_assert!(approved_here && (case.home_trust.is_none() || approved_home));
            }
        }
    }

    #[test]
    fn any_form_is_read_without_panic(entries in prop::collection::btree_map(
        prop::sample::select(off_label::FIELDS.iter().chain(cases::helfo::FIELDS).copied().collect::<Vec<_>>()),
        ".{0,40}",
        0..40,
    )) {
        let fields: Fields = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let _ = off_label::validate(&fields, "OUS", Date::parse("2026-11-24").unwrap());
        if let Ok(form) = cases::helfo::validate(&fields) {
            let rules = ruleset::RuleSet::embedded().unwrap();
            for role in domain::PrescriberRole::ALL {
                let _ = cases::helfo::assess(&form, *role, Date::parse("2026-11-24").unwrap(), &rules);
            }
        }
    }
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(options)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the facts, an automatic grant meets every § 3 condition of the form (B3), and a
    /// refusal names a rule of the path it was refused on.
    #[test]
    fn an_automatic_grant_meets_every_condition(
        atc in pick(&["R03DC03", "N02AA05", "C10AX13", "H02AB13", "A10BJ06", "N02CD01", "N02BF02", "J01CA04"]),
        authorisation in pick(&["marketed", "not_marketed", "unauthorised"]),
        group in pick(&["A", "B", "C", ""]),
        on_label in pick(&["ja", "nei"]),
        documentation in pick(&["ja", "nei"]),
        severity in pick(&["serious", "risk_factors", "not_serious"]),
        months in 0u8..=12,
        previous in pick(&["tried_failed", "contraindicated", "none_relevant", "other", "not_tried"]),
        trial in pick(&["ja", "nei"]),
        omeq in prop::option::of(0u32..500),
        pain in pick(&["non_cancer", "cancer", "unclarified"]),
        role in 0..domain::PrescriberRole::ALL.len(),
    ) {
        let mut fields = Fields::new();
        for (k, v) in [
            ("patient_id_kind", "fnr"), ("patient_id", "01010012356"), ("member", "ja"), ("atc", atc),
            ("substance", "x"), ("authorisation", authorisation), ("prescription_group", group),
            ("diagnosis", "x"), ("on_label", on_label), ("documentation_attached", documentation),
            ("severity", severity), ("previous_treatment", previous), ("previous_treatment_details", "x"),
            ("trust_offered_trial", trial),
        ] {
            fields.insert(k.into(), v.into());
        }
        fields.insert("months_per_year".into(), months.to_string());
        if let Some(o) = omeq {
            fields.insert("omeq".into(), o.to_string());
            fields.insert("pain".into(), pain.into());
        }
        let form = cases::helfo::validate(&fields).expect("a valid form");
        let rules = ruleset::RuleSet::embedded().unwrap();
        let today = Date::parse("2026-11-24").unwrap();
        let assessment = cases::helfo::assess(&form, domain::PrescriberRole::ALL[role], today, &rules);
        match assessment {
            Ok(cases::helfo::Assessment::Granted { valid_from, valid_until, .. }) => {
                prop_assert_eq!(severity, "serious");
                prop_assert_eq!(trial, "nei");
                prop_assert_eq!(on_label, "ja");
                prop_assert!(previous != "other");
                prop_assert!(previous != "not_tried" || (omeq.is_some() && pain == "cancer"));
                prop_assert!(valid_until.is_none_or(|u| u >= valid_from));
            }
            Ok(cases::helfo::Assessment::Refused { rule, .. }) => {
                prop_assert!(matches!(rule, domain::RuleId::B3 | domain::RuleId::B4 | domain::RuleId::B5 | domain::RuleId::General), "{rule:?}");
            }
            Ok(_) => {}
            Err(e) => prop_assert!(false, "assessment failed: {e:?}"),
        }
    }
}
