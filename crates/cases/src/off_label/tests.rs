use super::*;

fn actor(role: Role, subject: &str, trust: &str) -> Actor {
    Actor {
        subject: subject.into(),
        name: subject.into(),
        role,
        trust: Some(trust.into()),
    }
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// A complete application (vedlegg 1) for one patient.
pub fn complete() -> Fields {
    [
        ("scope", "patient"),
        ("patient_ref", "J-104233"),
        ("clinic", "Kreftklinikken"),
        ("atc", "L01FF02"),
        ("substance", "pembrolizumab"),
        ("use_kind", "off_label"),
        ("indication", "Sjelden sarkomtype med PD-L1-uttrykk"),
        ("setting", "patient_administered"),
        ("nye_metoder", "none"),
        ("documentation", "phase_ii"),
        ("references", "Smith et al., Lancet Oncol 2024;25:100-110"),
        ("ecog", "1"),
        ("biomarker_required", "ja"),
        ("biomarker_demonstrated", "ja"),
        ("safety", "Kjent bivirkningsprofil"),
        ("uncertainty", "Moderat"),
        ("consequences", "Rask progresjon"),
        ("cost_estimate", "850 000"),
        ("consent_recorded", "ja"),
        ("plan_purpose", "Livsforlengelse; CT hver 12. uke"),
        ("plan_dosing", "200 mg iv hver 3. uke"),
        ("evaluation_dates", "2027-03-01\n2027-06-01"),
        (
            "stop_rules",
            "Progresjon etter RECIST\nBivirkning grad 3 eller mer",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn rules() -> RuleSet {
    RuleSet::embedded().unwrap()
}

fn head(state: State, home: Option<&str>) -> CaseHead {
    CaseHead {
        state,
        author: "lege".into(),
        treating_trust: "OUS".into(),
        home_trust: home.map(str::to_string),
        evaluation_dates: vec![day("2027-03-01")],
        stop_rules: vec!["Progresjon".into()],
        evaluations_done: 0,
    }
}

fn req(m: Move) -> Request {
    Request {
        movement: m,
        reason: "faglig begrunnet".into(),
        stop_rule: Some(0),
    }
}

#[test]
fn a_complete_application_is_the_trusts_to_pay_with_its_approval_chain() {
    let doctor = actor(Role::Prescriber, "lege", "OUS");
    let (form, derived) = submit(&complete(), &doctor, day("2026-11-24"), &rules()).unwrap();
    assert_eq!(form.cost_estimate, Ore(85_000_000));
    assert_eq!(derived.payer, Payer::Hf, "O1 step 2");
    assert_eq!(
        derived.prescription,
        domain::Prescription::WhiteNote,
        "O5.2"
    );
    assert!(derived.actions.contains(&ActionKind::HfApproval), "O2");
    assert!(!derived.second_trust);
}

#[test]
fn o3_missing_and_wrong_fields_are_named() {
    let mut f = complete();
    f.insert("documentation".into(), "case_report".into());
    f.insert("ecog".into(), "3".into());
    f.insert("consent_recorded".into(), "nei".into());
    f.insert("biomarker_demonstrated".into(), "nei".into());
    f.insert("evaluation_dates".into(), "2026-01-01".into());
    f.remove("stop_rules");
    let errors = validate(&f, "OUS", day("2026-11-24")).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "documentation",
            "ecog_justification",
            "biomarker_demonstrated",
            "consent_recorded",
            "evaluation_dates",
            "stop_rules"
        ]
    );
}

#[test]
fn o1_beslutningsforum_no_blocks_submission() {
    let mut f = complete();
    f.insert("nye_metoder".into(), "decided_no".into());
    let doctor = actor(Role::Prescriber, "lege", "OUS");
    match submit(&f, &doctor, day("2026-11-24"), &rules()) {
        Err(Refusal::Invalid(e)) => assert_eq!(e[0].field, "nye_metoder"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn o1_established_treatment_goes_to_helfo_first_unless_refused() {
    let mut f = complete();
    f.insert("established".into(), "ja".into());
    f.insert("documentation".into(), "rct".into());
    let doctor = actor(Role::Prescriber, "lege", "OUS");
    match submit(&f, &doctor, day("2026-11-24"), &rules()) {
        Err(Refusal::Invalid(e)) => assert_eq!(e[0].field, "helfo_refused"),
        other => panic!("{other:?}"),
    }
    f.insert("helfo_refused".into(), "ja".into());
    assert!(submit(&f, &doctor, day("2026-11-24"), &rules()).is_ok());
}

#[test]
fn o2_the_chain_runs_doctor_clinic_head_director_and_the_second_trust() {
    let today = day("2026-11-24");
    let mut case = head(State::Draft, Some("Helse Bergen"));
    let steps = [
        (
            actor(Role::Prescriber, "lege", "OUS"),
            Move::Submit,
            State::Submitted,
        ),
        (
            actor(Role::ClinicHead, "kl", "OUS"),
            Move::Recommend,
            State::Recommended,
        ),
        (
            actor(Role::MedicalDirector, "fd", "OUS"),
            Move::Approve,
            State::AwaitingHomeTrust,
        ),
        (
            actor(Role::MedicalDirector, "fd2", "Helse Bergen"),
            Move::Approve,
            State::Approved,
        ),
    ];
    for (who, m, to) in steps {
        let out = apply(&case, &req(m), &who, today).unwrap();
        assert_eq!(out.to, to, "{m:?}");
        case.state = out.to;
    }
}

#[test]
fn o2_each_move_only_by_its_role_and_trust() {
    let today = day("2026-11-24");
    let submitted = head(State::Submitted, None);
    let forbidden = |c: &CaseHead, m, who: &Actor| {
        matches!(apply(c, &req(m), who, today), Err(Refusal::Forbidden(_)))
    };
    // The doctor cannot recommend or approve their own application.
    assert!(forbidden(
        &submitted,
        Move::Recommend,
        &actor(Role::Prescriber, "lege", "OUS")
    ));
    assert!(forbidden(
        &head(State::Recommended, None),
        Move::Approve,
        &actor(Role::ClinicHead, "kl", "OUS")
    ));
    // A clinic head of another trust cannot recommend.
    assert!(forbidden(
        &submitted,
        Move::Recommend,
        &actor(Role::ClinicHead, "kl", "Helse Bergen")
    ));
    // Another doctor cannot withdraw it.
    assert!(forbidden(
        &submitted,
        Move::Withdraw,
        &actor(Role::Prescriber, "annen", "OUS")
    ));
    // The treating trust's director cannot give the second trust's approval.
    assert!(forbidden(
        &head(State::AwaitingHomeTrust, Some("Helse Bergen")),
        Move::Approve,
        &actor(Role::MedicalDirector, "fd", "OUS")
    ));
    // A caseworker or pharmacist takes no part.
    for role in [Role::HelfoCaseworker, Role::Pharmacist, Role::Analyst] {
        for m in Move::ALL {
            assert!(
                forbidden(&submitted, *m, &actor(role, "x", "OUS")),
                "{role:?} {m:?}"
            );
        }
    }
}

#[test]
fn a_move_out_of_order_is_a_conflict_and_reasons_are_required() {
    let today = day("2026-11-24");
    let director = actor(Role::MedicalDirector, "fd", "OUS");
    assert!(matches!(
        apply(
            &head(State::Submitted, None),
            &req(Move::Approve),
            &director,
            today
        ),
        Err(Refusal::Conflict(_))
    ));
    let mut no_reason = req(Move::Reject);
    no_reason.reason = "  ".into();
    assert!(matches!(
        apply(
            &head(State::Recommended, None),
            &no_reason,
            &director,
            today
        ),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn returned_then_resubmitted_and_evaluated_to_a_stop() {
    let today = day("2026-11-24");
    let doctor = actor(Role::Prescriber, "lege", "OUS");
    let head_of_clinic = actor(Role::ClinicHead, "kl", "OUS");
    let mut case = head(State::Submitted, None);
    case.state = apply(&case, &req(Move::Return), &head_of_clinic, today)
        .unwrap()
        .to;
    assert_eq!(case.state, State::Returned);
    case.state = apply(&case, &req(Move::Submit), &doctor, today).unwrap().to;
    assert_eq!(case.state, State::Submitted);
    case.state = State::Approved;
    let out = apply(&case, &req(Move::EvaluateStop), &doctor, today).unwrap();
    assert_eq!(out.to, State::Stopped);
    assert!(out.record.contains("Progresjon"), "{}", out.record);
    let mut bad = req(Move::EvaluateStop);
    bad.stop_rule = Some(7);
    assert!(apply(&case, &bad, &doctor, today).is_err());
}

#[test]
fn an_approval_records_who_and_when() {
    let out = apply(
        &head(State::Recommended, None),
        &req(Move::Approve),
        &Actor {
            subject: "fd".into(),
            name: "Ola Fagdirektør".into(),
            role: Role::MedicalDirector,
            trust: Some("OUS".into()),
        },
        day("2026-11-24"),
    )
    .unwrap();
    assert!(
        out.record
            .starts_with("Godkjent av Ola Fagdirektør (fagdirektør, OUS) 2026-11-24.")
    );
}

#[test]
fn o2_o5_trusts_come_from_the_register_and_the_note_names_who_pays() {
    let doctor = actor(Role::Prescriber, "lege", "Oslo universitetssykehus HF");
    let today = day("2026-11-24");
    // The note's trust, its RHF and its invoice address (O5).
    let (_, derived) = submit(&complete(), &doctor, today, &rules()).unwrap();
    assert_eq!(derived.paying_trust, "Oslo universitetssykehus HF");
    assert_eq!(derived.paying_rhf.as_deref(), Some("Helse Sør-Øst RHF"));
    assert_eq!(
        derived.invoice_address.as_deref(),
        Some("EHF/PEPPOL 0192:993467049")
    );
    // The patient's trust by id or name becomes the register's name; a typo is refused.
    let mut f = complete();
    f.insert("home_trust".into(), "helse-bergen".into());
    let (form, derived) = submit(&f, &doctor, today, &rules()).unwrap();
    assert_eq!(form.home_trust.as_deref(), Some("Helse Bergen HF"));
    assert!(derived.second_trust, "O2: the patient's trust approves too");
    f.insert("home_trust".into(), "Helse Bregen HF".into());
    match submit(&f, &doctor, today, &rules()) {
        Err(Refusal::Invalid(errors)) => assert_eq!(errors[0].field, "home_trust"),
        other => panic!("{other:?}"),
    }
    f.insert("home_trust".into(), "ous".into());
    assert!(
        matches!(submit(&f, &doctor, today, &rules()), Err(Refusal::Invalid(e)) if e[0].field == "home_trust"),
        "the treating trust is not a second trust"
    );
}
