use super::*;

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn rules() -> RuleSet {
    RuleSet::embedded().unwrap()
}

fn handling() -> ruleset::CaseHandling {
    rules()
        .case_handling
        .at(day("2026-11-24"))
        .unwrap()
        .value
        .clone()
}

/// A § 3 application that meets every condition: a GP applies for a group C medicine used
/// within its indication, after the § 2 alternatives failed.
pub fn granted_form() -> Fields {
    [
        ("patient_id_kind", "fnr"),
        ("patient_id", "01010012356"),
        ("member", "ja"),
        ("atc", "R03DC03"),
        ("substance", "montelukast"),
        ("authorisation", "marketed"),
        ("prescription_group", "C"),
        ("diagnosis", "Astma, vedvarende"),
        ("on_label", "ja"),
        ("severity", "serious"),
        ("months_per_year", "12"),
        ("previous_treatment", "tried_failed"),
        (
            "previous_treatment_details",
            "Inhalasjonssteroider uten tilstrekkelig effekt",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn assess_fields(f: &Fields, role: PrescriberRole) -> Assessment {
    let form = validate(f).unwrap();
    assess(&form, role, day("2026-11-24"), &rules()).unwrap()
}

#[test]
fn b3_all_conditions_met_is_granted_at_once_without_time_limit() {
    match assess_fields(&granted_form(), PrescriberRole::Gp) {
        Assessment::Granted {
            valid_from,
            valid_until,
            ..
        } => {
            assert_eq!(valid_from, day("2026-11-24"));
            assert_eq!(valid_until, None, "B3 time limits: as a rule none");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn b3_time_limits_come_from_the_rule_data() {
    let mut f = granted_form();
    f.insert("prescription_group".into(), "A".into());
    match assess_fields(&f, PrescriberRole::Specialist) {
        Assessment::Granted { valid_until, .. } => {
            assert_eq!(valid_until, Some(day("2028-11-23")), "group A/B: 2 years")
        }
        other => panic!("{other:?}"),
    }
    // An opioid for non-cancer pain: one year.
    let mut f = granted_form();
    for (k, v) in [
        ("atc", "N02AA05"),
        ("substance", "oksykodon"),
        ("prescription_group", "A"),
        ("omeq", "90"),
        ("pain", "non_cancer"),
    ] {
        f.insert(k.into(), v.into());
    }
    match assess_fields(&f, PrescriberRole::Gp) {
        Assessment::Granted { valid_until, .. } => assert_eq!(valid_until, Some(day("2027-11-23"))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn b5_opioid_dose_above_the_cap_is_refused_with_the_paragraph() {
    let mut f = granted_form();
    for (k, v) in [
        ("atc", "N02AA05"),
        ("substance", "oksykodon"),
        ("omeq", "350"),
        ("pain", "non_cancer"),
    ] {
        f.insert(k.into(), v.into());
    }
    match assess_fields(&f, PrescriberRole::PainClinic) {
        Assessment::Refused { rule, reason } => {
            assert_eq!(rule, RuleId::B5);
            assert!(reason.contains("§ 3"), "{reason}");
            // An automatic refusal says how to appeal, as a caseworker's does.
            assert!(
                reason.contains("påklages innen seks uker") && reason.contains("Tønsberg"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn b4_a_gp_applying_for_what_needs_a_specialist_is_refused() {
    let mut f = granted_form();
    f.insert("atc".into(), "C10AX13".into());
    f.insert("substance".into(), "evolokumab".into());
    match assess_fields(&f, PrescriberRole::Gp) {
        Assessment::Refused { rule, .. } => assert_eq!(rule, RuleId::B4),
        other => panic!("{other:?}"),
    }
}

#[test]
fn b3_conditions_refuse_or_send_to_a_caseworker() {
    let mut not_serious = granted_form();
    not_serious.insert("severity".into(), "not_serious".into());
    assert!(matches!(
        assess_fields(&not_serious, PrescriberRole::Gp),
        Assessment::Refused {
            rule: RuleId::B3,
            ..
        }
    ));
    let mut not_tried = granted_form();
    not_tried.insert("previous_treatment".into(), "not_tried".into());
    assert!(matches!(
        assess_fields(&not_tried, PrescriberRole::Gp),
        Assessment::Refused {
            rule: RuleId::B3,
            ..
        }
    ));
    let mut short = granted_form();
    short.insert("months_per_year".into(), "2".into());
    assert!(matches!(
        assess_fields(&short, PrescriberRole::Gp),
        Assessment::Refused {
            rule: RuleId::General,
            ..
        }
    ));
    let mut risk = granted_form();
    risk.insert("severity".into(), "risk_factors".into());
    assert!(matches!(
        assess_fields(&risk, PrescriberRole::Gp),
        Assessment::Manual { .. }
    ));
    let mut off_label = granted_form();
    off_label.insert("on_label".into(), "nei".into());
    off_label.insert("documentation_attached".into(), "ja".into());
    assert!(matches!(
        assess_fields(&off_label, PrescriberRole::Specialist),
        Assessment::Manual { .. }
    ));
}

#[test]
fn f3_a_listed_medicine_stops_at_once_the_trust_pays() {
    let mut f = granted_form();
    f.insert("atc".into(), "H02AB13".into());
    f.insert("substance".into(), "deflazacort".into());
    assert!(matches!(
        assess_fields(&f, PrescriberRole::Specialist),
        Assessment::NotNeeded {
            rule: RuleId::F3,
            ..
        }
    ));
}

#[test]
fn b3_no_identity_number_takes_the_paper_path() {
    let mut f = granted_form();
    f.insert("patient_id_kind".into(), "none".into());
    f.remove("patient_id");
    f.insert("patient_name".into(), "Ana Testesen".into());
    f.insert("birth_date".into(), "1980-05-15".into());
    // The paper is signed by hand under the prescriber's HPR number: it must be given.
    let errors = validate(&f).unwrap_err();
    assert_eq!(errors[0].field, "prescriber_hpr", "{errors:?}");
    f.insert("prescriber_hpr".into(), "12x".into());
    assert_eq!(validate(&f).unwrap_err()[0].field, "prescriber_hpr");
    f.insert("prescriber_hpr".into(), "9144889".into());
    assert!(matches!(
        assess_fields(&f, PrescriberRole::Gp),
        Assessment::Paper { .. }
    ));
}

#[test]
fn the_form_names_each_wrong_field() {
    let mut f = granted_form();
    f.insert("patient_id".into(), "01010012357".into());
    f.insert("months_per_year".into(), "13".into());
    f.insert("omeq".into(), "abc".into());
    let errors = validate(&f).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["patient_id", "months_per_year", "omeq"]);
}

#[test]
fn only_a_caseworker_decides_and_only_pending_cases() {
    let today = day("2026-11-24");
    let caseworker = Actor {
        subject: "s".into(),
        name: "Sara Saksbehandler".into(),
        role: Role::HelfoCaseworker,
        trust: None,
    };
    let doctor = Actor {
        role: Role::Prescriber,
        ..caseworker.clone()
    };
    let grant = Ruling::Grant { valid_until: None };
    assert!(matches!(
        rule_on(
            State::Manual,
            &grant,
            "ok",
            &doctor,
            today,
            None,
            &handling()
        ),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        rule_on(
            State::Granted,
            &grant,
            "ok",
            &caseworker,
            today,
            None,
            &handling()
        ),
        Err(Refusal::Conflict(_))
    ));
    let (to, record, _) = rule_on(
        State::Paper,
        &Ruling::Refuse,
        "mangler dokumentasjon",
        &caseworker,
        today,
        None,
        &handling(),
    )
    .unwrap();
    assert_eq!(to, State::Refused);
    assert!(record.contains("Sara Saksbehandler"));
    assert!(
        record.contains("påklages"),
        "a refusal says how to appeal: {record}"
    );
}

#[test]
fn a_caseworker_asks_for_more_information_and_the_applicants_answer_returns_the_case() {
    let today = day("2026-11-24");
    let caseworker = Actor {
        subject: "s".into(),
        name: "Sara Saksbehandler".into(),
        role: Role::HelfoCaseworker,
        trust: None,
    };
    let doctor = Actor {
        subject: "lege-1".into(),
        name: "Lise Lege".into(),
        role: Role::Prescriber,
        trust: None,
    };
    let ask = |deadline: Option<&str>| Ruling::AskForInformation {
        deadline: deadline.map(day),
    };
    // The deadline defaults to the rule data's days from today; one in the past is refused.
    let (to, line, deadline) = rule_on(
        State::Manual,
        &ask(None),
        "Hvilke legemidler er prøvd?",
        &caseworker,
        today,
        None,
        &handling(),
    )
    .unwrap();
    assert_eq!(to, State::MoreInformation);
    assert_eq!(deadline, Some(day("2026-12-08")), "14 days");
    assert!(line.contains("Hvilke legemidler er prøvd?") && line.contains("2026-12-08"));
    assert!(matches!(
        rule_on(State::Manual, &ask(Some("2026-11-24")), "?", &caseworker, today, None, &handling()),
        Err(Refusal::Invalid(e)) if e[0].field == "deadline"
    ));
    // Waiting for information, the case is still the caseworker's to decide.
    assert!(State::MoreInformation.is_pending());
    // Only the applicant answers, only when asked, and with something.
    assert!(matches!(
        answer(State::MoreInformation, "x", &caseworker, "lege-1", today),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        answer(State::Manual, "x", &doctor, "lege-1", today),
        Err(Refusal::Conflict(_))
    ));
    assert!(matches!(
        answer(State::MoreInformation, "  ", &doctor, "lege-1", today),
        Err(Refusal::Invalid(e)) if e[0].field == "answer"
    ));
    let (to, line) = answer(
        State::MoreInformation,
        "Montelukast og salmeterol, uten effekt.",
        &doctor,
        "lege-1",
        today,
    )
    .unwrap();
    assert_eq!(to, State::Manual);
    assert!(line.contains("Lise Lege") && line.contains("salmeterol"));
}

#[test]
fn b3_a_caseworkers_grant_keeps_the_time_limit() {
    let today = day("2026-11-24");
    let caseworker = Actor {
        subject: "s".into(),
        name: "Sara Saksbehandler".into(),
        role: Role::HelfoCaseworker,
        trust: None,
    };
    let year = Some((day("2027-11-23"), "B3: opioider, 12 måneder"));
    let grant = |until: Option<&str>| Ruling::Grant {
        valid_until: until.map(day),
    };
    // Without an end, or past the limit: the limit.
    let (_, line, last) = rule_on(
        State::Manual,
        &grant(None),
        "ok",
        &caseworker,
        today,
        year,
        &handling(),
    )
    .unwrap();
    assert_eq!(last, Some(day("2027-11-23")));
    assert!(line.contains("opioider, 12 måneder"), "{line}");
    let (_, _, last) = rule_on(
        State::Manual,
        &grant(Some("2030-01-01")),
        "ok",
        &caseworker,
        today,
        year,
        &handling(),
    )
    .unwrap();
    assert_eq!(last, Some(day("2027-11-23")));
    // Earlier is the caseworker's to choose; and where B3 sets no limit, none is added.
    let (_, _, last) = rule_on(
        State::Manual,
        &grant(Some("2027-06-30")),
        "ok",
        &caseworker,
        today,
        year,
        &handling(),
    )
    .unwrap();
    assert_eq!(last, Some(day("2027-06-30")));
    let (_, _, last) = rule_on(
        State::Manual,
        &grant(None),
        "ok",
        &caseworker,
        today,
        None,
        &handling(),
    )
    .unwrap();
    assert_eq!(last, None);
}

#[test]
fn b5_dispensing_is_checked_against_the_highest_dose_decision() {
    let rules = rules();
    let b5 = &rules.opioids.at(day("2026-07-01")).unwrap().value;
    let table = &rules.omeq.at(day("2026-07-01")).unwrap().value;
    let atc = |c: &str| domain::Atc::parse(c).unwrap();
    let grant = |case_id, code: &str, from: &str, until: Option<&str>, omeq| Grant {
        case_id,
        atc: atc(code),
        valid_from: day(from),
        valid_until: until.map(day),
        omeq,
    };
    let grants = [
        grant(1, "N02AA05", "2026-01-01", Some("2026-12-31"), Some(60.0)),
        grant(2, "N02AA01", "2026-06-01", None, Some(90.0)),
        grant(3, "N07BC02", "2026-01-01", None, Some(200.0)),
    ];
    let dispensed = |code: &str, omeq, route| Dispensed {
        atc: atc(code),
        omeq,
        route,
        opioids: b5,
        excluded_routes: &table.excluded_routes,
    };
    let on = day("2026-07-01");
    let oral = Some(ruleset::Route::Oral);
    // Oxycodone at 80 mg OMEQ: the morphine decision (90) is the highest and covers it.
    assert_eq!(
        covering(&grants, &dispensed("N02AA05", Some(80.0), oral), on)
            .unwrap()
            .case_id,
        2
    );
    // Above the highest opioid decision: refused. Methadone's 200 does not count for others.
    assert!(covering(&grants, &dispensed("N02AA05", Some(120.0), oral), on).is_err());
    // Tramadol has no decision of its own; an opioid decision covers it.
    assert_eq!(
        covering(&grants, &dispensed("N02AX02", Some(30.0), oral), on)
            .unwrap()
            .case_id,
        2
    );
    // Methadone only by its own decision; a fentanyl nasal spray by none.
    assert_eq!(
        covering(&grants, &dispensed("N07BC02", Some(150.0), oral), on)
            .unwrap()
            .case_id,
        3
    );
    assert!(covering(&grants[..2], &dispensed("N07BC02", Some(50.0), oral), on).is_err());
    let nasal = dispensed("N02AB03", Some(50.0), Some(ruleset::Route::Nasal));
    assert!(covering(&grants, &nasal, on).unwrap_err().contains("-71"));
    // Not an opioid: only a decision for the substance itself.
    assert!(covering(&grants, &dispensed("R03DC03", None, oral), on).is_err());
    // Before any decision is valid.
    assert!(
        covering(
            &grants,
            &dispensed("N02AA05", None, oral),
            day("2025-07-01")
        )
        .is_err()
    );
}

fn with(pairs: &[(&str, &str)]) -> Fields {
    let mut f = granted_form();
    for (k, v) in pairs {
        if v.is_empty() {
            f.remove(*k);
        } else {
            f.insert((*k).into(), (*v).into());
        }
    }
    f
}

#[test]
fn b5_an_opioid_application_without_dose_or_pain_is_not_granted_automatically() {
    let opioid = [
        ("atc", "N02AA05"),
        ("substance", "oksykodon"),
        ("prescription_group", "A"),
    ];
    let mut f = with(&opioid);
    f.insert("omeq".into(), "".into());
    assert!(
        matches!(assess_fields(&f, PrescriberRole::Gp), Assessment::Manual { ref reason } if reason.contains("OMEQ")),
        "{:?}",
        assess_fields(&f, PrescriberRole::Gp)
    );
    let mut f = with(&opioid);
    f.insert("omeq".into(), "80".into());
    f.insert("pain".into(), "non_cancer".into());
    assert!(matches!(
        assess_fields(&f, PrescriberRole::Gp),
        Assessment::Granted { .. }
    ));
}

#[test]
fn b4_an_unknown_prescription_group_never_waives_the_specialist_requirement() {
    let f = with(&[("prescription_group", "")]);
    match assess_fields(&f, PrescriberRole::Gp) {
        Assessment::Manual { reason } => assert!(reason.contains("B4"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Pregabalin is exempt from the group A/B rule: its group does not matter.
    let f = with(&[
        ("prescription_group", ""),
        ("atc", "N02BF02"),
        ("substance", "pregabalin"),
    ]);
    assert!(matches!(
        assess_fields(&f, PrescriberRole::Gp),
        Assessment::Granted { .. }
    ));
}

#[test]
fn b6_and_b2_need_no_application_and_the_form_says_so() {
    let f = with(&[
        ("refund_code", "-90"),
        ("atc", "N02AA01"),
        ("substance", "morfin"),
    ]);
    match assess_fields(&f, PrescriberRole::Gp) {
        Assessment::NotNeeded { rule, reason } => {
            assert_eq!(rule, RuleId::B6);
            assert!(reason.contains("-90"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // § 4: for everyone staying in Norway, member or not.
    let f = with(&[
        ("atc", "J04AB02"),
        ("substance", "rifampicin"),
        ("communicable", "ja"),
        ("member", "nei"),
    ]);
    match assess_fields(&f, PrescriberRole::Gp) {
        Assessment::NotNeeded { rule, reason } => {
            assert_eq!(rule, RuleId::B2);
            assert!(
                reason.contains("medlem av folketrygden eller ikke"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn b5_one_decision_serves_every_opioid_but_methadone() {
    let rules = rules();
    let b5 = &rules.opioids.at(day("2026-11-24")).unwrap().value;
    let atc = |c: &str| domain::Atc::parse(c).unwrap();
    assert!(
        same_decision(&atc("N02AA01"), &atc("N02AA05"), b5),
        "morphine → oxycodone"
    );
    assert!(
        same_decision(&atc("N02AA05"), &atc("R05DA04"), b5),
        "oxycodone → codeine"
    );
    assert!(
        !same_decision(&atc("N02AA05"), &atc("N07BC02"), b5),
        "not methadone"
    );
    assert!(
        !same_decision(&atc("N07BC02"), &atc("N02AA05"), b5),
        "methadone's own"
    );
    assert!(same_decision(&atc("N07BC02"), &atc("N07BC02"), b5));
    assert!(!same_decision(&atc("R03DC03"), &atc("N02AA05"), b5));
    assert!(same_decision(&atc("R03DC03"), &atc("R03DC03"), b5));
}

#[test]
fn b3_the_obesity_time_limit_is_for_obesity_use_only() {
    let rules = rules();
    let limit = |pairs: &[(&str, &str)]| {
        let form = validate(&with(pairs)).unwrap();
        valid_until(&form, day("2026-11-24"), &rules).unwrap().1
    };
    let glp1 = [("atc", "A10BJ06"), ("substance", "semaglutid")];
    let wegovy = [&glp1[..], &[("brand", "Wegovy FlexTouch")]].concat();
    assert!(limit(&wegovy).contains("fedme"), "{}", limit(&wegovy));
    let obesity = [&glp1[..], &[("refund_code", "T82")]].concat();
    assert!(limit(&obesity).contains("fedme"));
    let diabetes = [&glp1[..], &[("brand", "Ozempic"), ("refund_code", "T90")]].concat();
    assert!(!limit(&diabetes).contains("fedme"), "{}", limit(&diabetes));
}
