use super::*;

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// The embedded files with one replaced (or added) by `path`, `text`.
fn with<'a>(path: &'a str, text: &'a str) -> Result<RuleSet, LoadError> {
    let mut files: Vec<(&'a str, &'a str)> = RuleSet::embedded_files()
        .iter()
        .copied()
        .filter(|(p, _)| *p != path)
        .collect();
    files.push((path, text));
    RuleSet::load(files)
}

#[test]
fn embedded_rules_load() {
    let rules = RuleSet::embedded().unwrap();
    assert_eq!(rules.h_list.entries().len(), 14);
    assert_eq!(rules.label(d("2024-10-31")), "legemiddel-regler 2026.12.3");
    assert_eq!(
        rules.label(d("2024-11-01")),
        "legemiddel-regler 2026.12.3; § 1b-liste 2024-11-01"
    );
    assert_eq!(
        rules.opioids.at(d("2025-01-01")).unwrap().value.gp_max_omeq,
        100
    );
    assert!(rules.opioids.at(d("2020-01-01")).is_err());
    assert_eq!(
        rules
            .copayment
            .at(d("2026-01-01"))
            .unwrap()
            .value
            .share_percent,
        60
    );
    assert_eq!(
        rules
            .copayment
            .at(d("2025-12-31"))
            .unwrap()
            .value
            .share_percent,
        50
    );
}

#[test]
fn candidates_include_group_level_entries() {
    let rules = RuleSet::embedded().unwrap();
    let found: Vec<_> = rules
        .h_list
        .candidates(&Atc::parse("L01EM03").unwrap())
        .map(|e| e.substance.as_str())
        .collect();
    assert_eq!(found, ["vimseltinib", "inavolisib"]);
    let found: Vec<_> = rules
        .h_list
        .candidates(&Atc::parse("J01GB06").unwrap())
        .map(|e| e.substance.as_str())
        .collect();
    assert_eq!(found, ["amikacin"]);
    assert_eq!(
        rules
            .h_list
            .candidates(&Atc::parse("C10AA05").unwrap())
            .count(),
        0
    );
}

#[test]
fn unknown_key_names_file_and_line() {
    let e = with("general-conditions.toml", "rule = \"GEN\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n\n[[period]]\nfrom = 2024-01-01\nlong_term_min_months = 3\nlong_term_max = 4\n").unwrap_err();
    assert_eq!(e.file, "general-conditions.toml");
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.message.contains("long_term_max"), "{e}");
}

#[test]
fn malformed_atc_names_file_and_line() {
    let e = with("h-list/2030-01-01.toml", "rule = \"F5\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\neffective = 2030-01-01\n\n[[entry]]\nsubstance = \"x\"\natc = \"J01X0\"\nuse = \"u\"\n").unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.line),
        ("h-list/2030-01-01.toml", Some(9)),
        "{e}"
    );
    assert!(e.message.contains("ATC"), "{e}");
}

#[test]
fn overlapping_periods_are_rejected() {
    let e = with("copayment-2026b.toml", "rule = \"EGENANDEL\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n\n[[period]]\nfrom = 2026-06-01\nshare_percent = 60\ncap_ore = 1\ncap_per = \"dispensing\"\nyearly_ceiling_ore = 1\nno_copayment_under_age = 16\n").unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.line),
        ("copayment-2026b.toml", Some(6)),
        "{e}"
    );
    assert!(e.message.contains("overlapper"), "{e}");
}

#[test]
fn a_list_entry_twice_in_force_is_rejected() {
    let e = with("h-list/2025-06-01.toml", "rule = \"F5\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\neffective = 2025-06-01\n\n[[entry]]\nsubstance = \"Deflazacort\"\natc = \"H02AB13\"\nuse = \"u\"\n").unwrap_err();
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.message.contains("allerede"), "{e}");
}

#[test]
fn a_later_list_is_data_only() {
    // A new list file, effective later, needs no code: it is simply another file.
    let rules = with("h-list/2027-01-01.toml", "rule = \"F5\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\neffective = 2027-01-01\n\n[[entry]]\nsubstance = \"atorvastatin\"\natc = \"C10AA05\"\nuse = \"u\"\n").unwrap();
    assert_eq!(rules.h_list.entries().len(), 15);
    assert_eq!(
        rules.label(d("2027-01-01")),
        "legemiddel-regler 2026.12.3; § 1b-liste 2027-01-01"
    );
}

#[test]
fn bad_dates_and_periods_are_rejected() {
    let e = with("g2-cannabis.toml", "rule = \"G2\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = \"2024-01-01\"\nthc_percent_above = 1\n").unwrap_err();
    assert!(e.message.contains("dato"), "{e}");
    let e = with("g2-cannabis.toml", "rule = \"G2\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\nuntil = 2023-01-01\nthc_percent_above = 1\n").unwrap_err();
    assert!(e.message.contains("until"), "{e}");
    let e = with("g2-cannabis.toml", "rule = \"G9\"\n").unwrap_err();
    assert!(e.message.contains("G9"), "{e}");
}

#[test]
fn case_handling_is_validated() {
    let head = "rule = \"SAKSBEHANDLING\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\n";
    let e = with(
        "helfo-case-handling.toml",
        &format!(
            "{head}helfo_address = [\"Helfo\"]\nmore_information_days = 14\nappeal_weeks = 6\n"
        ),
    )
    .unwrap_err();
    assert!(e.message.contains("helfo_address"), "{e}");
    let e = with(
        "helfo-case-handling.toml",
        &format!("{head}helfo_address = [\"Helfo\", \"Postboks 1\"]\nmore_information_days = 0\nappeal_weeks = 6\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("more_information_days"), "{e}");
}

#[test]
fn in_force_lists_every_rule_with_data() {
    let rules = RuleSet::embedded().unwrap();
    let now = rules.in_force(d("2025-01-01"));
    let ids: Vec<_> = now.iter().map(|r| r.source.rule.code()).collect();
    assert_eq!(
        ids,
        [
            "F5",
            "B2",
            "GEN",
            "B3",
            "B4",
            "B5",
            "B6",
            "EGENANDEL",
            "G2",
            "G1",
            "G3",
            "GYLDIGHET",
            "OMEQ",
            "HELSEFORETAK",
            "E1",
            "E4",
            "SAKSBEHANDLING"
        ]
    );
    let before = rules.in_force(d("2024-06-01"));
    assert!(before.iter().all(|r| r.source.rule != RuleId::F5));
}

#[test]
fn b3_time_limits_are_validated() {
    let text = |group: &str| {
        format!(
            "rule = \"B3\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-11\nunlimited = []\ngroup_ab_months = 24\n[[period.limited]]\n{group}"
        )
    };
    let e = with(
        "b3-decision-time-limits.toml",
        &text("name = \"tom\"\nmonths = 12\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("minst én av"), "{e}");
    let e = with(
        "b3-decision-time-limits.toml",
        &text("name = \"null\"\natc = [\"N02A\"]\nmonths = 0\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("months"), "{e}");
    let e = with(
        "b3-decision-time-limits.toml",
        &text("name = \"x\"\natc = [\"N02\"]\nmonths = 12\nyears = 1\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("years"), "{e}");
}

#[test]
fn the_trust_register_is_checked_on_load() {
    let rules = RuleSet::embedded().unwrap();
    let register = &rules.trusts.at(d("2026-06-01")).unwrap().value;
    let bergen = register.for_municipality("4601").unwrap();
    assert_eq!(bergen.name, "Helse Bergen HF");
    assert_eq!(register.rhf_of(bergen).name, "Helse Vest RHF");
    assert_eq!(
        register.trust("helse bergen hf").unwrap().id,
        "helse-bergen"
    );
    assert_eq!(
        register.trust(" helse-bergen ").unwrap().org_nr,
        "983974724"
    );
    assert!(register.trust("Helse Bregen HF").is_none());

    let file = |trust: &str| {
        format!(
            "rule = \"HELSEFORETAK\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\n\
             [[period.rhf]]\nid = \"helse-vest\"\nname = \"Helse Vest RHF\"\norg_nr = \"983658725\"\n{trust}"
        )
    };
    let trust = |id: &str, rhf: &str, org: &str, kommuner: &str| {
        format!(
            "[[period.trust]]\nid = \"{id}\"\nname = \"{id}\"\nrhf = \"{rhf}\"\norg_nr = \"{org}\"\nmunicipalities = [{kommuner}]\n"
        )
    };
    let load = |text: String| {
        let mut files: Vec<(&str, &str)> = RuleSet::embedded_files()
            .iter()
            .filter(|(p, _)| *p != "trusts.toml")
            .copied()
            .collect();
        files.push(("trusts.toml", &text));
        RuleSet::load(files).map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(
        load(file(&trust("a", "helse-vest", "983974724", "\"4601\""))),
        Ok(())
    );
    let e = load(file(&trust("a", "helse-sor", "983974724", ""))).unwrap_err();
    assert!(e.contains("helse-sor"), "{e}");
    let e = load(file(&trust("a", "helse-vest", "983974725", ""))).unwrap_err();
    assert!(e.contains("983974725"), "{e}");
    let e = load(file(&trust("a", "helse-vest", "983974724", "\"460\""))).unwrap_err();
    assert!(e.contains("fire sifre"), "{e}");
    let two = trust("a", "helse-vest", "983974724", "\"4601\"")
        + &trust("b", "helse-vest", "983974678", "\"4601\"");
    let e = load(file(&two)).unwrap_err();
    assert!(e.contains("4601"), "{e}");
}

#[test]
fn e1_the_requirement_adds_specialist_days_at_the_main_wholesaler() {
    let rules = RuleSet::embedded().unwrap();
    let e1 = &rules.stockpiles.at(d("2026-06-01")).unwrap().value;
    let amox = Atc::parse("J01CA04").unwrap();
    let (r, name) = e1.requirement("NMD", &amox).unwrap();
    assert_eq!(
        (r.emergency_days, r.ordinary_days),
        (182.5, 20),
        "{name}: six months"
    );
    let cancer = Atc::parse("L01XC18").unwrap();
    assert!(
        e1.requirement("NMD", &cancer).is_none(),
        "E2 only at the main wholesaler"
    );
    assert_eq!(
        e1.requirement("AHN", &cancer).unwrap().0.emergency_days,
        180.0
    );
    assert!(
        e1.requirement("AHN", &Atc::parse("C07AB02").unwrap())
            .is_none()
    );
}

#[test]
fn e4_restrictions_are_validated() {
    let head = "rule = \"E4\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\n";
    let e = with(
        "rationing.toml",
        &format!("{head}[[period.restriction]]\nid = \"X\"\ntitle = \"t\"\natc = [\"J01CA04\"]\nfrom = 2026-01-10\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("max_packages"), "{e}");
    let e = with(
        "rationing.toml",
        &format!("{head}[[period.restriction]]\nid = \"X\"\ntitle = \"t\"\natc = [\"J01CA04\"]\nfrom = 2026-01-10\nuntil = 2026-01-01\nmax_packages = 1\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("until"), "{e}");
}

#[test]
fn approval_exemption_limits_and_negative_list_are_validated_and_read() {
    let head = "rule = \"G1\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\n";
    let e = with(
        "g1-approval-exemption.toml",
        &format!("{head}max_period_days = 400\ndmp_handling_working_days = 3\n"),
    )
    .unwrap_err();
    assert!(e.message.contains("max_period_days"), "{e}");
    // G1: the shipped negative list finds vaccines by group and leaves other products alone.
    let rules = RuleSet::embedded().unwrap();
    let g1 = &rules.approval_exemption.at(d("2026-06-01")).unwrap().value;
    assert_eq!(g1.max_period_days, 365);
    let vaccine = domain::Atc::parse("J07BB02").unwrap();
    assert!(
        g1.negative_reason(&vaccine, "influensavaksine")
            .unwrap()
            .contains("vaksiner")
    );
    let melatonin = domain::Atc::parse("N05CH01").unwrap();
    assert_eq!(g1.negative_reason(&melatonin, "melatonin"), None);
}

#[test]
fn a_transition_is_at_most_ninety_days_and_counts_the_market_day() {
    let head = "rule = \"G3\"\ntitle = \"t\"\nsource = \"s\"\nbasis = \"b\"\n[[period]]\nfrom = 2024-01-01\nmax_transition_days = 90\n";
    let entry = |days: u32| {
        format!(
            "{head}[[period.replacement]]\nmarketed = \"X\"\natc = \"N05CH01\"\nmarketed_from = 2026-03-01\ntransition_days = {days}\nsource = \"DMP\"\n"
        )
    };
    let e = with("g3-transition.toml", &entry(91)).unwrap_err();
    assert!(e.message.contains("transition_days"), "{e}");
    let rules = with("g3-transition.toml", &entry(90)).unwrap();
    let g3 = &rules.transitions.at(d("2026-06-01")).unwrap().value;
    let atc = domain::Atc::parse("N05CH01").unwrap();
    // 1 March is day 1, so day 90 is 29 May.
    let r = g3.replacing(&atc, d("2026-06-01")).unwrap();
    assert_eq!(r.last_day, d("2026-05-29"));
    assert!(g3.replacing(&atc, d("2026-02-28")).is_none());
}
