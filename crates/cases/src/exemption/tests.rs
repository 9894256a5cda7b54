//! The approval exemption, rule by rule (G1–G4).

use super::*;

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn rules() -> RuleSet {
    RuleSet::embedded().unwrap()
}

/// The rule data with one announced replacement (G3): a product with MT replacing unregistered
/// melatonin from 1 March 2026, for 90 days.
fn rules_with_replacement() -> RuleSet {
    let g3 = "rule = \"G3\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\nmax_transition_days = 90\n\
              [[period.replacement]]\nmarketed = \"Melatonin MT 2 mg\"\natc = \"N05CH01\"\nmarketed_from = 2026-03-01\ntransition_days = 90\nsource = \"test\"\n";
    let mut files: Vec<(&str, &str)> = RuleSet::embedded_files()
        .iter()
        .copied()
        .filter(|(p, _)| *p != "g3-transition.toml")
        .collect();
    files.push(("g3-transition.toml", g3));
    RuleSet::load(files).unwrap()
}

/// A doctor's exemption for one patient: unregistered melatonin, authorised in another EEA
/// country, for 12 packages, because the marketed tablets cannot be swallowed.
fn form() -> Fields {
    [
        ("scope", "patient"),
        ("patient_id", "01010012356"),
        ("product", "Melatonin 1 mg/ml mikstur"),
        ("atc", "N05CH01"),
        ("substance", "melatonin"),
        ("authorised_abroad", "ja"),
        ("quantity", "12"),
        ("valid_from", "2026-01-15"),
        (
            "justification",
            "Søvnvansker ved autismespekterforstyrrelse",
        ),
        ("ground", "no_marketed_alternative"),
        ("why_not_marketed", "Kan ikke svelge tabletter"),
        ("prescriber_name", "Per Fastlege"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn with(mut f: Fields, changes: &[(&str, &str)]) -> Fields {
    for (k, v) in changes {
        f.insert(k.to_string(), v.to_string());
    }
    f
}

fn assess_as(f: &Fields, filing: Filing, rules: &RuleSet) -> Result<Assessment, Refusal> {
    assess(
        &validate(f).unwrap(),
        filing,
        Some(PrescriberRole::Gp),
        Some(FestApplication::PharmacyAssesses),
        rules,
    )
}

#[test]
fn g1_the_pharmacy_may_notify_an_ordinary_product_and_it_lasts_a_year_at_most() {
    let a = assess_as(&form(), Filing::Notification, &rules()).unwrap();
    assert_eq!(a.state, State::Notified);
    assert!(a.dmp_reasons.is_empty());
    // 15 January 2026 + 365 days, counting the first: 14 January 2027.
    assert_eq!(a.valid_until, day("2027-01-14"));
    // A doctor may still apply to DMP instead.
    let a = assess_as(&form(), Filing::Application, &rules()).unwrap();
    assert_eq!(a.state, State::Submitted);
}

#[test]
fn g1_a_period_over_a_year_is_refused_on_its_field() {
    let f = with(form(), &[("valid_until", "2027-01-15")]);
    match assess_as(&f, Filing::Application, &rules()) {
        Err(Refusal::Invalid(e)) => {
            assert_eq!(e[0].field, "valid_until");
            assert!(e[0].message.contains("2027-01-14"), "{}", e[0].message);
        }
        other => panic!("{other:?}"),
    }
    let f = with(form(), &[("valid_until", "2027-01-14")]);
    assert!(assess_as(&f, Filing::Application, &rules()).is_ok());
}

#[test]
fn g1_the_form_needs_a_quantity_or_a_period_and_a_justification() {
    let mut f = form();
    f.remove("quantity");
    f.remove("why_not_marketed");
    f.insert("scope".into(), "department".into());
    let errors = validate(&f).unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["holder", "quantity", "why_not_marketed"]);
}

#[test]
fn g1_the_negative_list_needs_dmp_first_and_closes_the_notification_path() {
    for changes in [
        vec![("authorised_abroad", "nei")],
        vec![("biological", "ja")],
        vec![("atc", "J07BB02"), ("substance", "influensavaksine")],
    ] {
        let f = with(form(), &changes);
        match assess_as(&f, Filing::Notification, &rules()) {
            Err(Refusal::Conflict(m)) => assert!(m.contains("negativlisten"), "{m}"),
            other => panic!("{changes:?}: {other:?}"),
        }
        let a = assess_as(&f, Filing::Application, &rules()).unwrap();
        assert_eq!(a.state, State::Submitted);
        assert_eq!(a.dmp_reasons.len(), 1, "{:?}", a.dmp_reasons);
    }
    // FEST's «Må søkes» says the same.
    let a = assess(
        &validate(&form()).unwrap(),
        Filing::Notification,
        None,
        Some(FestApplication::MustApply),
        &rules(),
    );
    assert!(matches!(a, Err(Refusal::Conflict(m)) if m.contains("TypeSoknadSlv 3")));
}

#[test]
fn g2_cannabis_over_one_percent_thc_only_by_a_hospital_specialist() {
    let f = with(
        form(),
        &[
            ("atc", "N02BG10"),
            ("substance", "cannabis"),
            ("thc_percent", "10"),
        ],
    );
    let form = validate(&f).unwrap();
    let by = |role| assess(&form, Filing::Application, Some(role), None, &rules());
    assert!(matches!(by(PrescriberRole::Gp), Err(Refusal::Forbidden(m)) if m.contains("G2")));
    let a = by(PrescriberRole::HospitalDoctor).unwrap();
    assert_eq!(a.state, State::Submitted);
    assert!(a.findings.iter().any(|f| f.rule == RuleId::G2));
    // Not by the pharmacy's notification either.
    assert!(matches!(
        assess(&form, Filing::Notification, None, None, &rules()),
        Err(Refusal::Conflict(_))
    ));
    // Exactly 1 % is not more than 1 %.
    let f = with(f, &[("thc_percent", "1")]);
    let form = validate(&f).unwrap();
    assert!(
        assess(
            &form,
            Filing::Application,
            Some(PrescriberRole::Gp),
            None,
            &rules()
        )
        .is_ok()
    );
}

#[test]
fn g3_dispensing_goes_on_through_the_transition_and_then_only_dmp_may_grant() {
    let rules = rules_with_replacement();
    // Day 90 (29 May): still the transition; the exemption ends with it.
    let f = with(form(), &[("valid_from", "2026-05-29")]);
    let a = assess_as(&f, Filing::Notification, &rules).unwrap();
    assert_eq!(a.state, State::Notified);
    assert_eq!(a.valid_until, day("2026-05-29"));
    assert!(a.findings.iter().any(|f| f.rule == RuleId::G3));
    // Day 91: the pharmacy may not notify; the doctor's application goes to DMP.
    let f = with(form(), &[("valid_from", "2026-05-30")]);
    assert!(matches!(
        assess_as(&f, Filing::Notification, &rules),
        Err(Refusal::Conflict(m)) if m.contains("G3")
    ));
    let a = assess_as(&f, Filing::Application, &rules).unwrap();
    assert_eq!(a.state, State::Submitted);
    // Before the market day nothing changes.
    let f = with(form(), &[("valid_from", "2026-02-28")]);
    let a = assess_as(&f, Filing::Notification, &rules).unwrap();
    assert_eq!(a.valid_until, day("2027-02-27"));
}

#[test]
fn g4_a_shortage_of_the_marketed_product_keeps_the_notification_path_open() {
    let rules = rules_with_replacement();
    let mut f = with(
        form(),
        &[
            ("valid_from", "2026-07-01"),
            ("ground", "shortage"),
            ("shortage_of", "Melatonin MT 2 mg"),
        ],
    );
    f.remove("why_not_marketed");
    let a = assess_as(&f, Filing::Notification, &rules).unwrap();
    assert_eq!(a.state, State::Notified);
    assert!(a.findings.iter().any(|f| f.rule == RuleId::G4));
    // The shortage must name the product.
    f.remove("shortage_of");
    let e = validate(&f).unwrap_err();
    assert_eq!(e[0].field, "shortage_of");
}

#[test]
fn only_dmp_decides_once_and_a_refusal_has_a_reason() {
    let dmp = Actor {
        subject: "dag".into(),
        name: "Dag DMP".into(),
        role: Role::DmpCaseworker,
        trust: None,
    };
    let gp = Actor {
        role: Role::Prescriber,
        ..dmp.clone()
    };
    let today = day("2026-02-01");
    assert!(matches!(
        rule_on(State::Submitted, &gp, Ruling::Approve, None, today),
        Err(Refusal::Forbidden(_))
    ));
    assert_eq!(
        rule_on(State::Submitted, &dmp, Ruling::Approve, None, today)
            .unwrap()
            .0,
        State::Approved
    );
    assert!(matches!(
        rule_on(State::Submitted, &dmp, Ruling::Refuse, Some(" "), today),
        Err(Refusal::Invalid(e)) if e[0].field == "reason"
    ));
    assert!(matches!(
        rule_on(State::Approved, &dmp, Ruling::Refuse, Some("nei"), today),
        Err(Refusal::Conflict(_))
    ));
    assert!(matches!(
        rule_on(State::Notified, &dmp, Ruling::Approve, None, today),
        Err(Refusal::Conflict(_))
    ));
}

#[test]
fn a_pharmacist_notifies_a_doctor_applies_and_nobody_else_files() {
    assert_eq!(filing_of(Role::Pharmacist), Some(Filing::Notification));
    assert_eq!(filing_of(Role::Prescriber), Some(Filing::Application));
    assert_eq!(filing_of(Role::Analyst), None);
}

#[test]
fn table_1_counts_handled_applications_by_decision_year_and_notifications_by_filing_year() {
    let c = |filing, state, filed: &str, decided: Option<&str>| Counted {
        filing,
        state,
        filed: day(filed),
        decided: decided.map(day),
    };
    let rows = yearly_counts([
        // Filed in December, decided in January: handled the next year.
        c(
            Filing::Application,
            State::Approved,
            "2024-12-30",
            Some("2025-01-03"),
        ),
        c(
            Filing::Application,
            State::Refused,
            "2025-03-01",
            Some("2025-03-04"),
        ),
        // Still with DMP: not handled, not counted.
        c(Filing::Application, State::Submitted, "2025-12-31", None),
        c(Filing::Notification, State::Notified, "2024-12-31", None),
        c(Filing::Notification, State::Notified, "2025-01-01", None),
    ]);
    assert_eq!(
        rows,
        [
            YearCount {
                year: 2024,
                applications: 0,
                notifications: 1
            },
            YearCount {
                year: 2025,
                applications: 2,
                notifications: 1
            },
        ]
    );
    assert_eq!(rows[1].total(), 3);
}
