use super::*;
use crate::generate::{Options, write};

fn generated(packages: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write(
        &mut out,
        &Options {
            packages,
            ..Options::default()
        },
    )
    .unwrap();
    out
}

#[test]
fn a_generated_file_reads_back_whole() {
    let bytes = generated(300);
    let cat = parse(&bytes[..], |_| {}).unwrap();
    assert_eq!(cat.retrieved, "2026-11-15T02:00:00");
    assert_eq!(cat.packages.len(), 300);
    assert!(cat.products.len() > 100);
    let p = &cat.packages[0];
    assert_eq!(p.varenr, "100000");
    assert_eq!(p.medicine.atc.as_ref().unwrap().code, "C08CA01");
    assert!(p.price_ore.unwrap() > 0);
    assert_eq!(cat.refunds.len(), 2, "§ 2 and H-resept");
    let section2 = cat
        .refunds
        .iter()
        .find(|r| r.basis.code == BASIS_SECTION_2)
        .unwrap();
    assert!(
        section2
            .groups
            .iter()
            .any(|g| g.codes.iter().any(|c| c.code.code == "K86"))
    );
    assert!(cat.code_systems.iter().any(|c| {
        c.oid == ATC_OID
            && c.elements
                .iter()
                .any(|e| e.code == "C08" && e.term == "Kalsiumantagonister")
    }));
    assert!(!cat.substitution_groups.is_empty());
    let by_substance = &cat.substance_medicines[0];
    assert_eq!(by_substance.medicine.atc.as_ref().unwrap().code, "C08CA01");
    assert!(!by_substance.products.is_empty() && !by_substance.packages.is_empty());
    assert!(
        cat.code_systems
            .iter()
            .any(|c| c.oid.ends_with(".7435") && c.elements.iter().any(|e| e.code == "I10"))
    );
}

#[test]
fn a_truncated_file_is_refused_with_its_position() {
    let bytes = generated(50);
    let cut = &bytes[..bytes.len() / 2];
    let e = parse(cut, |_| {}).unwrap_err();
    assert!(
        e.message.contains("avkortet") || e.message.contains("ugyldig XML"),
        "{e}"
    );
    assert!(e.position > 0);
}

#[test]
fn a_wrong_root_or_namespace_is_refused() {
    let e = parse(
        &b"<?xml version=\"1.0\"?><FEST><HentetDato>x</HentetDato></FEST>"[..],
        |_| {},
    )
    .unwrap_err();
    assert!(e.message.contains("navnerommet"), "{e}");
    let e = parse(&b""[..], |_| {}).unwrap_err();
    assert!(e.message.contains("tom"), "{e}");
}

#[test]
fn a_bad_value_names_the_entry() {
    let text = String::from_utf8(generated(5)).unwrap();
    let broken = text.replacen("<fs:Varenr>100002</fs:Varenr>", "", 1);
    let e = parse(broken.as_bytes(), |_| {}).unwrap_err();
    assert!(e.message.contains("Varenr"), "{e}");
    assert!(
        e.entry
            .as_deref()
            .unwrap_or("")
            .starts_with("OppfLegemiddelpakning"),
        "{e}"
    );
}

#[test]
fn money_is_read_exactly() {
    assert_eq!(ore("123.45"), Some(12_345));
    assert_eq!(ore("0.1"), Some(10));
    assert_eq!(ore("12"), Some(1_200));
    assert_eq!(ore("1.234"), None);
    assert_eq!(ore("-1"), None);
}

#[test]
fn prices_subterms_and_dated_references_read_as_dmp_codes_them() {
    let bytes = generated(400);
    let text = String::from_utf8_lossy(&bytes);
    // The generator writes what DMP writes.
    assert!(text.contains("<fs:Type V=\"4\" S=\"2.16.578.1.12.4.1.1.7453\" DN=\"AUP\"/>"));
    assert!(text.contains("<Underterm>Narkolepsi</Underterm>"));
    let cat = parse(&bytes[..], |_| {}).unwrap();
    let day = |d: &str| Date::parse(d).unwrap();
    let p = &cat.packages[0];
    let now = p.price_on(&PriceKind::Aup, day("2026-06-01")).unwrap();
    let before = p.price_on(&PriceKind::Aup, day("2025-06-01")).unwrap();
    assert!(before < now, "last year's AUP ended when this year's began");
    assert_eq!(p.price_ore, Some(now));
    assert!(p.price_on(&PriceKind::Aip, day("2026-06-01")).unwrap() < now);
    assert_eq!(p.price_on(&PriceKind::Aup, day("2024-06-01")), None);

    let p06 = cat
        .refunds
        .iter()
        .flat_map(|b| &b.groups)
        .flat_map(|g| &g.codes)
        .find(|c| c.code.code == "P06")
        .expect("methylphenidate's P06");
    assert_eq!(p06.subterm.as_deref(), Some("Narkolepsi"));
    assert_eq!(p06.shown_term(), "Søvnforstyrrelse – bare «Narkolepsi»");

    let with_condition = cat
        .refunds
        .iter()
        .flat_map(|b| &b.groups)
        .flat_map(|g| &g.codes)
        .find(|c| !c.dated_conditions.is_empty())
        .unwrap();
    assert_eq!(
        with_condition.dated_conditions[0].from,
        Some(day("2020-01-01"))
    );
    assert_eq!(
        with_condition.conditions_on(Some(day("2019-12-31"))),
        Vec::<&str>::new()
    );
    assert_eq!(
        with_condition.conditions_on(Some(day("2026-01-01"))).len(),
        1
    );

    let grouped = cat
        .packages
        .iter()
        .find(|p| p.medicine.substitution_group.is_some())
        .unwrap();
    assert_eq!(grouped.medicine.substitution_from, Some(day("2020-01-01")));
    assert!(
        grouped
            .medicine
            .substitution_group_on(day("2019-12-31"))
            .is_none()
    );
    assert!(
        grouped
            .medicine
            .substitution_group_on(day("2026-01-01"))
            .is_some()
    );
}

#[test]
fn a_price_kind_is_read_from_its_term_first_and_its_code_second() {
    assert_eq!(PriceKind::from_coded("4", "AUP"), PriceKind::Aup);
    assert_eq!(PriceKind::from_coded("3", "AIP"), PriceKind::Aip);
    // The information model has 3 and 4 the other way round: the term decides.
    assert_eq!(PriceKind::from_coded("3", "AUP"), PriceKind::Aup);
    assert_eq!(PriceKind::from_coded("4", ""), PriceKind::Aup);
    assert_eq!(PriceKind::from_coded("3", ""), PriceKind::Aip);
    assert_eq!(
        PriceKind::from_coded("2", "Refusjonspris"),
        PriceKind::Refund
    );
    assert_eq!(PriceKind::from_coded("5", "Trinnpris"), PriceKind::Step);
    assert_eq!(PriceKind::from_coded("AUP", "Maksimal AUP"), PriceKind::Aup);
    assert_eq!(
        PriceKind::from_coded("9", "Noe annet"),
        PriceKind::Other("9".into())
    );
}
