//! The hand-written fixture around the example of DMP's implementation guide (ch. 13.1): it
//! reads as the guide describes, and a decision request naming its package by varenummer is
//! completed as the rules say.

use serde_json::json;

const FIXTURE: &str = include_str!("fixtures/guide-example.xml");

fn catalogue() -> (fest::Catalogue, fest::Index) {
    let cat = fest::parse(FIXTURE.as_bytes(), |_| {}).unwrap();
    let index = fest::Index::new(&cat);
    (cat, index)
}

#[test]
fn the_guides_package_reads_as_the_guide_describes() {
    let (cat, index) = catalogue();
    assert_eq!(cat.retrieved, "2018-06-28T00:51:50");
    assert_eq!(cat.packages.len(), 1);
    assert_eq!(cat.inactive, 1, "the expired entry is not in force");
    let p = &cat.packages[0];
    assert_eq!(
        (p.varenr.as_str(), p.id.as_str()),
        ("108708", "ID_00FB8D56-111B-4A82-8B68-9AD4B5422B0A")
    );
    assert_eq!(
        p.medicine.refunds[0].groups,
        ["ID_5718DFE7-8B9A-46D0-BCCD-B8FC529BC2CF"]
    );
    assert_eq!(p.price_ore, Some(31_240));
    // Prices as DMP codes them: the kind from 7453, the period that is in force.
    use fest::model::PriceKind;
    let day = |d: &str| domain::Date::parse(d).unwrap();
    assert_eq!(p.price_on(&PriceKind::Aup, day("2025-06-30")), Some(29_850));
    assert_eq!(p.price_on(&PriceKind::Aup, day("2025-12-31")), Some(29_850));
    assert_eq!(p.price_on(&PriceKind::Aup, day("2026-01-01")), Some(31_240));
    assert_eq!(p.price_on(&PriceKind::Aip, day("2026-03-01")), Some(23_110));
    assert_eq!(p.price_on(&PriceKind::Aup, day("2024-12-31")), None);
    let hit = index.varenr("108708").unwrap();
    assert_eq!(
        (hit.brand.as_str(), hit.substances.as_str()),
        ("Corixil", "valsartan, hydroklortiazid")
    );
}

#[test]
fn b1_varenr_108708_with_k86_is_on_the_refund_list_and_with_t90_it_is_not() {
    let (cat, index) = catalogue();
    let mut req =
        json!({"date": "2018-07-01", "drug": {"varenr": "108708"}, "use": {"refund_code": "K86"}});
    let r = fest::resolve::resolve(&mut req, &cat, &index)
        .unwrap()
        .unwrap();
    assert_eq!(req["use"]["refund_listed"], true);
    assert_eq!(req["drug"]["atc"], "C09DA03");
    assert_eq!(req["drug"]["substance"], "valsartan");
    assert_eq!(req["drug"]["brand"], "Corixil");
    assert!(
        r.notes[0]
            .text
            .contains("refusjonsgruppe 1 «Hypertensjon», refusjonskode K86"),
        "{:?}",
        r.notes
    );
    let mut req =
        json!({"date": "2018-07-01", "drug": {"varenr": "108708"}, "use": {"refund_code": "T90"}});
    fest::resolve::resolve(&mut req, &cat, &index).unwrap();
    assert_eq!(req["use"]["refund_listed"], false);
    // Before the refund was valid (2008-01-17), not on the list either.
    let mut req =
        json!({"date": "2007-12-01", "drug": {"varenr": "108708"}, "use": {"refund_code": "K86"}});
    fest::resolve::resolve(&mut req, &cat, &index).unwrap();
    assert_eq!(req["use"]["refund_listed"], false);
}
