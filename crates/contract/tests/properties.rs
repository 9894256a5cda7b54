//! Invariants that must hold for every input, checked on generated ones (proptest):
//! no input panics; the same input gives the same answer; every decision cites its law; a
//! medicine on the § 1b list is never paid by the National Insurance from its listing date;
//! a dispensing decision is accepted exactly when nothing blocks it.

use contract::{Command, answer};
use proptest::prelude::*;
use ruleset::RuleSet;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::embedded().expect("embedded rules load"))
}

fn run(command: Command, input: &[u8]) -> Result<Value, contract::ContractError> {
    let mut out = Vec::new();
    answer(command, input, rules(), &mut out)?;
    Ok(serde_json::from_slice(&out).expect("the answer is JSON"))
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "gp",
            "J01GB06",
            "2025-01-01",
            "h",
            "-90",
            "L01EM",
            "unauthorised"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS.to_vec()), inner), 0..6).prop_map(
                |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            ),
        ]
    })
}

/// Field names of the contract (and a few that are not), so generated objects get deep.
const FIELDS: &[&str] = &[
    "date",
    "drug",
    "atc",
    "substance",
    "brand",
    "authorisation",
    "prescription_group",
    "thc_percent",
    "use",
    "on_label",
    "refund_listed",
    "refund_code",
    "generally_dangerous_infection",
    "mrsa",
    "palliative",
    "established",
    "helfo_documentation",
    "nye_metoder",
    "setting",
    "started_in",
    "prescriber",
    "role",
    "patient",
    "id",
    "member",
    "other_hf",
    "age",
    "treatment",
    "months_per_year",
    "repeated",
    "opioid",
    "omeq",
    "pain",
    "kind",
    "prescription",
    "form",
    "issued",
    "valid_until",
    "unknown",
];

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.6, s)
}

/// A date the rule data covers (from 2024-01-11, the earliest period of the B rules).
fn date() -> impl Strategy<Value = String> {
    (2024i32..=2027, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))
        .prop_map(|d| {
            if d.as_str() < "2024-01-11" {
                "2024-01-11".to_string()
            } else {
                d
            }
        })
}

fn atc() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "H02AB13", "H02AB09", "J01GB06", "J06BD09", "L01", "L01EM", "L01EM03", "L01XX99",
        "L01EE05", "M01CC01", "R07AX33", "C10AA05", "C10AX13", "N02CD01", "M03AX01", "A10BJ06",
        "A10BJ02", "N02AA05", "N02AA01", "N07BC02", "R05DA04", "N03AX16", "N02BF02", "J01CA04",
        "J07BB02", "J06BA02", "L03AB11", "D06AX09", "N02BG10", "QJ01CA04", "A", "J",
    ])
    .prop_map(str::to_string)
}

fn substance() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "deflazacort",
        "hydrokortison",
        "amikacin",
        "inavolisib",
        "Inavolisib",
        "vimseltinib",
        "alpelisib",
        "penicillamin",
        "semaglutid",
        "oksykodon",
        "morfin",
        "cannabis",
        "atorvastatin",
    ])
    .prop_map(str::to_string)
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values.to_vec()).prop_map(str::to_string)
}

/// A well-formed decision request: every field valid, each optional one present or not.
fn valid_request() -> impl Strategy<Value = Value> {
    let drug = (
        atc(),
        substance(),
        maybe(pick(&[
            "Arikayce",
            "arikayce",
            "Hydrocortisone Aguettant",
            "Wegovy",
            "Saxenda",
            "Ozempic",
        ])),
        maybe(pick(&["marketed", "not_marketed", "unauthorised"])),
        maybe(pick(&["A", "B", "C", "CF", "F", "K"])),
        maybe(0.0f64..=100.0),
    );
    let usage = (
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(pick(&["-90", "-71", "T90"])),
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(any::<bool>()),
        maybe(pick(&[
            "none",
            "under_assessment",
            "decided_yes",
            "decided_no",
        ])),
    );
    let rest = (
        maybe(pick(&[
            "patient_administered",
            "inpatient",
            "outpatient",
            "lar",
            "compulsory_mental_health",
            "clinical_trial",
            "compassionate_use",
        ])),
        maybe(pick(&["primary", "specialist"])),
        pick(&["gp", "specialist", "hospital_doctor", "pain_clinic"]),
        (
            maybe(pick(&["fnr", "dnr", "none"])),
            maybe(any::<bool>()),
            maybe(any::<bool>()),
            maybe(0u16..110),
        ),
        (maybe(0.0f64..=12.0), maybe(any::<bool>())),
        (
            0.0f64..600.0,
            maybe(pick(&["non_cancer", "cancer", "unclarified"])),
            maybe(pick(&[
                "standard",
                "methadone",
                "fast_acting",
                "not_marketed",
            ])),
        ),
    );
    (date(), drug, usage, rest).prop_map(|(date, drug, usage, rest)| {
        let mut r = Map::new();
        r.insert("date".into(), json!(date));
        let mut d = Map::new();
        d.insert("atc".into(), json!(drug.0));
        d.insert("substance".into(), json!(drug.1));
        put(&mut d, "brand", drug.2);
        put(&mut d, "authorisation", drug.3);
        put(&mut d, "prescription_group", drug.4);
        put(&mut d, "thc_percent", drug.5);
        r.insert("drug".into(), Value::Object(d));
        let mut u = Map::new();
        put(&mut u, "on_label", usage.0);
        put(&mut u, "refund_listed", usage.1);
        put(&mut u, "refund_code", usage.2);
        put(&mut u, "generally_dangerous_infection", usage.3);
        put(&mut u, "mrsa", usage.4);
        put(&mut u, "palliative", usage.5);
        put(&mut u, "established", usage.6);
        put(&mut u, "helfo_documentation", usage.7);
        put(&mut u, "nye_metoder", usage.8);
        r.insert("use".into(), Value::Object(u));
        put(&mut r, "setting", rest.0);
        put(&mut r, "started_in", rest.1);
        r.insert("prescriber".into(), json!({ "role": rest.2 }));
        let mut p = Map::new();
        put(&mut p, "id", rest.3.0);
        put(&mut p, "member", rest.3.1);
        put(&mut p, "other_hf", rest.3.2);
        put(&mut p, "age", rest.3.3);
        r.insert("patient".into(), Value::Object(p));
        let mut t = Map::new();
        put(&mut t, "months_per_year", rest.4.0);
        put(&mut t, "repeated", rest.4.1);
        r.insert("treatment".into(), Value::Object(t));
        // The dose is always given with a pain type, as B5 requires for non-cancer pain.
        let mut o = Map::new();
        if let Some(pain) = rest.5.1 {
            o.insert("omeq".into(), json!(rest.5.0));
            o.insert("pain".into(), json!(pain));
        }
        put(&mut o, "kind", rest.5.2);
        r.insert("opioid".into(), Value::Object(o));
        Value::Object(r)
    })
}

fn put<T: serde::Serialize>(m: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        m.insert(key.into(), json!(v));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any bytes at all: a decision or a field-named error, never a panic.
    #[test]
    fn any_bytes_give_a_decision_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for command in [Command::Decide, Command::Dispense] {
            if let Err(e) = run(command, &bytes) {
                prop_assert!(!e.field.is_empty() && !e.message.is_empty());
            }
        }
    }

    /// Any JSON value (deep, with the contract's field names): never a panic, errors name a field.
    #[test]
    fn any_json_gives_a_decision_or_an_error(value in any_json()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        for command in [Command::Decide, Command::Dispense] {
            if let Err(e) = run(command, &bytes) {
                prop_assert!(!e.field.is_empty() && !e.message.is_empty());
            }
        }
    }

    /// A valid request with one field broken by a random JSON value: never a panic.
    #[test]
    fn a_broken_field_gives_an_error_not_a_panic(
        req in valid_request(),
        path in prop::sample::select(vec!["/date", "/drug/atc", "/drug/substance", "/use/refund_code", "/setting",
                                          "/prescriber/role", "/patient/age", "/treatment/months_per_year", "/opioid/omeq", "/drug"]),
        junk in any_json(),
    ) {
        let mut req = req;
        if let Some(slot) = req.pointer_mut(path) {
            *slot = junk;
        }
        let _ = run(Command::Decide, &serde_json::to_vec(&req).unwrap());
    }

    /// Valid requests always decide, deterministically, with at least one citation and an
    /// explanation.
    #[test]
    fn valid_requests_decide_deterministically_with_citations(req in valid_request()) {
        let bytes = serde_json::to_vec(&req).unwrap();
        let first = run(Command::Decide, &bytes);
        let first = match first {
            Ok(d) => d,
            Err(e) => return Err(TestCaseError::fail(format!("{req} gave {e}"))),
        };
        prop_assert_eq!(&run(Command::Decide, &bytes).unwrap(), &first);
        prop_assert!(first["citations"].as_array().is_some_and(|c| !c.is_empty()), "no citation: {}", first);
        prop_assert!(first["explanation"].as_array().is_some_and(|c| !c.is_empty()));
    }

    /// The fast writer writes exactly what serde writes of the answer's shape
    /// (`contract::shape`), byte for byte — so the API document's answer schema, made from that
    /// shape, describes what is sent.
    #[test]
    fn the_written_decision_is_its_documented_shape(req in valid_request()) {
        let parsed = contract::parse_decision_request(&serde_json::to_vec(&req).unwrap()).unwrap();
        let d = decide::decide(&parsed, rules()).unwrap();
        let mut written = Vec::new();
        contract::write_decision(&d, &mut written);
        let shaped = serde_json::to_vec(&contract::shape::DecisionShape::from(&d)).unwrap();
        prop_assert_eq!(String::from_utf8(written).unwrap(), String::from_utf8(shaped).unwrap());
    }

    /// F3: from its listing date, a listed medicine is never paid by the National Insurance,
    /// whatever else the request says.
    #[test]
    fn a_listed_medicine_is_never_paid_by_folketrygden(
        req in valid_request(),
        entry in 0usize..14,
        days_after in 0i64..900,
    ) {
        let rules = rules();
        let e = &rules.h_list.entries()[entry];
        let mut req = req;
        let date = chrono_like_add(e.period.from.to_string(), days_after);
        req["date"] = json!(date);
        req["drug"]["atc"] = json!(if e.atc.is_substance() { e.atc.to_string() } else { format!("{}", e.atc) });
        req["drug"]["substance"] = json!(e.substance);
        if let Some(brand) = e.brands.first() {
            req["drug"]["brand"] = json!(brand);
        }
        let d = run(Command::Decide, &serde_json::to_vec(&req).unwrap()).unwrap();
        prop_assert_ne!(&d["payer"], "folketrygden", "{} → {}", req, d);
    }

    /// A dispensing decision is accepted exactly when nothing blocks it, and only then says what
    /// to register and who pays.
    #[test]
    fn dispensing_is_accepted_exactly_when_unblocked(
        date in date(), atc in atc(), substance in substance(),
        brand in maybe(pick(&["Arikayce", "Other"])),
        form in pick(&["blue", "h", "white"]),
        issued_back in 0i64..800, valid_days in 0i64..500,
    ) {
        let issued = chrono_like_add(date.clone(), -issued_back);
        let valid_until = chrono_like_add(issued.clone(), valid_days);
        let mut drug = json!({"atc": atc, "substance": substance});
        if let Some(b) = brand { drug["brand"] = json!(b); }
        let req = json!({"date": date, "drug": drug, "prescription": {"form": form, "issued": issued, "valid_until": valid_until}});
        let bytes = serde_json::to_vec(&req).unwrap();
        let d = run(Command::Dispense, &bytes).unwrap();
        // The fast writer writes exactly the documented shape (see above).
        let decision = dispense::dispense(&contract::parse_dispensing_request(&bytes).unwrap(), rules()).unwrap();
        let mut written = Vec::new();
        contract::write_dispensing(&decision, &mut written);
        let shaped = serde_json::to_vec(&contract::shape::DispensingShape::from(&decision)).unwrap();
        prop_assert_eq!(String::from_utf8(written).unwrap(), String::from_utf8(shaped).unwrap());
        let accepted = d["accepted"].as_bool().unwrap();
        prop_assert_eq!(accepted, d["blockers"].as_array().unwrap().is_empty());
        prop_assert_eq!(accepted, d.get("register_as").is_some());
        prop_assert_eq!(accepted, d.get("payer").is_some());
        prop_assert!(d["citations"].as_array().is_some_and(|c| !c.is_empty()));
    }
}

/// `YYYY-MM-DD` plus a number of days (negative allowed), without a date library in the test.
fn chrono_like_add(date: String, days: i64) -> String {
    let (y, m, d) = (
        date[0..4].parse::<i64>().unwrap(),
        date[5..7].parse::<i64>().unwrap(),
        date[8..10].parse::<i64>().unwrap(),
    );
    // Days since 1970-01-01 (Howard Hinnant's civil-from-days algorithm, both directions).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let z = era * 146_097 + doe + days;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
