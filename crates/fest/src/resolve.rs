//! A decision request that names a product (`drug.varenr` or `drug.fest_id`) is completed from
//! the catalogue before the engine sees it: the facts FEST knows are taken from FEST.
//!
//! **Precedence.** FEST is the authority on the product: its ATC code, substance, brand,
//! prescription group and whether it needs an approval exemption, and — for a refund code —
//! whether the use is on the § 2 refund list on the date. A fact the caller sends as well must
//! agree; if it does not, the request is refused with the field named (never silently
//! overridden either way). Everything else (the setting, the prescriber, the patient) is the
//! caller's. A request without `varenr`/`fest_id` is contract v1 unchanged.

use serde_json::{Map, Value, json};

use domain::Date;

use crate::Index;
use crate::model::{BASIS_H_PRESCRIPTION, BASIS_SECTION_2, Catalogue, Package};

/// A note for the decision's explanation: the rule id it belongs to, whether it decided
/// something, and the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Rule id as in `shared/domain.md` (B1, F3, G1, B7).
    pub rule: &'static str,
    /// Whether it applied.
    pub applied: bool,
    /// Bokmål.
    pub text: String,
}

/// What the catalogue contributed.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// The notes, in the order of the law (§ 2, H-list, exemption, substitution).
    pub notes: Vec<Note>,
    /// Whether FEST puts the product in an H-prescription group on the date.
    pub h_prescription: Option<String>,
    /// The `catalogue` object of the answer.
    pub summary: Value,
}

/// A refused request: the field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// JSON path.
    pub field: String,
    /// Bokmål.
    pub message: String,
}

fn refused(field: &str, message: impl Into<String>) -> Refused {
    Refused {
        field: field.into(),
        message: message.into(),
    }
}

/// Sets `obj[key]` to `value` unless the caller sent something else.
fn agree(
    obj: &mut Map<String, Value>,
    path: &str,
    key: &str,
    value: Value,
    fest: &str,
) -> Result<(), Refused> {
    match obj.get(key) {
        Some(given) if !same(given, &value) => Err(refused(
            &format!("{path}.{key}"),
            format!(
                "FEST {fest} sier {value}, forespørselen sier {given}; ta bort feltet eller rett det"
            ),
        )),
        _ => {
            obj.insert(key.into(), value);
            Ok(())
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        _ => a == b,
    }
}

fn find<'c>(
    cat: &'c Catalogue,
    index: &Index,
    varenr: Option<&str>,
    fest_id: Option<&str>,
) -> Option<&'c Package> {
    if let Some(v) = varenr {
        let hit = index.varenr(v)?;
        return cat.packages.iter().find(|p| p.id == hit.package_id);
    }
    let id = fest_id?;
    cat.packages
        .iter()
        .find(|p| p.id == id)
        .or_else(|| cat.packages.iter().find(|p| p.product == id))
}

/// Completes `request` from the catalogue when it names a product; `Ok(None)` when it does not.
pub fn resolve(
    request: &mut Value,
    cat: &Catalogue,
    index: &Index,
) -> Result<Option<Resolution>, Refused> {
    let date = request
        .get("date")
        .and_then(Value::as_str)
        .and_then(|d| Date::parse(d).ok());
    let Some(drug) = request.get_mut("drug").and_then(Value::as_object_mut) else {
        return Ok(None);
    };
    let varenr = drug.remove("varenr");
    let fest_id = drug.remove("fest_id");
    if varenr.is_none() && fest_id.is_none() {
        return Ok(None);
    }
    let text = |v: &Option<Value>, field: &str| -> Result<Option<String>, Refused> {
        match v {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(refused(field, "ventet tekst")),
        }
    };
    let varenr = text(&varenr, "drug.varenr")?;
    let fest_id = text(&fest_id, "drug.fest_id")?;
    let field = if varenr.is_some() {
        "drug.varenr"
    } else {
        "drug.fest_id"
    };
    let package = find(cat, index, varenr.as_deref(), fest_id.as_deref())
        .ok_or_else(|| refused(field, format!("finnes ikke i FEST {}", cat.retrieved)))?;
    let hit = index
        .varenr(&package.varenr)
        .ok_or_else(|| refused(field, "finnes ikke i katalogens oppslag"))?;
    let m = &package.medicine;

    // The product facts.
    let atc = m
        .atc
        .as_ref()
        .map(|a| a.code.clone())
        .ok_or_else(|| refused(field, "pakningen har ingen ATC-kode i FEST"))?;
    let fest = format!("{} (varenr {})", cat.retrieved, package.varenr);
    agree(drug, "drug", "atc", json!(atc), &fest)?;
    let substance = hit.substances.split(", ").next().unwrap_or("").to_string();
    if !substance.is_empty() {
        agree(drug, "drug", "substance", json!(substance), &fest)?;
    }
    if !hit.brand.is_empty() {
        agree(drug, "drug", "brand", json!(hit.brand), &fest)?;
    }
    if matches!(
        m.prescription_group.as_str(),
        "A" | "B" | "C" | "CF" | "F" | "K"
    ) {
        agree(
            drug,
            "drug",
            "prescription_group",
            json!(m.prescription_group),
            &fest,
        )?;
    }
    let exemption = m.preparation_type.as_ref().is_some_and(|p| p.code == "11");
    if exemption {
        agree(drug, "drug", "authorisation", json!("unauthorised"), &fest)?;
    }

    let mut notes = Vec::new();
    let mut summary = json!({
        "snapshot": cat.retrieved,
        "varenr": package.varenr,
        "name": m.name_form_strength,
        "atc": atc,
        "prescription_group": m.prescription_group,
    });

    // § 2: a valid group under 200 whose codes include the prescription's refund code (B1).
    let links_on = |basis: &str| -> Vec<(&crate::model::RefundGroup, &crate::model::RefundLink)> {
        m.refunds
            .iter()
            .filter(|l| date.is_none_or(|d| l.valid_on(d)))
            .flat_map(|l| l.groups.iter().map(move |g| (g, l)))
            .filter_map(|(gid, l)| {
                cat.refunds
                    .iter()
                    .filter(|b| b.basis.code == basis)
                    .find_map(|b| b.groups.iter().find(|g| &g.id == gid))
                    .map(|g| (g, l))
            })
            .collect()
    };
    let section2 = links_on(BASIS_SECTION_2);
    let refund_code = request
        .get("use")
        .and_then(|u| u.get("refund_code"))
        .and_then(Value::as_str)
        .map(|c| c.trim().to_ascii_uppercase());
    let condition_text = |id: &String| {
        cat.conditions
            .iter()
            .find(|c| &c.id == id)
            .map(|c| format!("vilkår {}: {}", c.number.as_deref().unwrap_or("?"), c.text))
    };
    let found = refund_code.as_ref().and_then(|code| {
        section2.iter().find_map(|(g, _)| {
            g.codes
                .iter()
                .find(|c| {
                    c.code.code.eq_ignore_ascii_case(code) && date.is_none_or(|d| c.valid_on(d))
                })
                .map(|c| (g, c))
        })
    });
    let listed = match (&refund_code, found, section2.is_empty()) {
        (_, _, true) => {
            notes.push(Note {
                rule: "B1",
                applied: false,
                text: format!("FEST {fest}: pakningen har ingen gyldig § 2-refusjon på datoen."),
            });
            false
        }
        (None, _, false) => {
            let groups: Vec<String> = section2
                .iter()
                .map(|(g, _)| format!("«{}»", g.eligible_use.as_deref().unwrap_or(&g.number.name)))
                .collect();
            notes.push(Note {
                rule: "B1",
                applied: false,
                text: format!("FEST {fest}: § 2-refusjon for {}, men forespørselen har ingen refusjonskode (use.refund_code); uten kode kan den ikke skrives på § 2.", groups.join(", ")),
            });
            false
        }
        (Some(code), None, false) => {
            notes.push(Note { rule: "B1", applied: false, text: format!("FEST {fest}: refusjonskoden {code} hører ikke til pakningens § 2-refusjonsgrupper på datoen.") });
            false
        }
        (Some(code), Some((g, c)), false) => {
            let conditions: Vec<String> = c
                .conditions_on(date)
                .into_iter()
                .map(str::to_string)
                .filter_map(|id| condition_text(&id))
                .collect();
            let mut t = format!(
                "FEST {fest}: § 2-refusjonsgruppe {} «{}», refusjonskode {code} ({}) gyldig på datoen.",
                g.number.code,
                g.eligible_use.as_deref().unwrap_or(&g.number.name),
                c.shown_term()
            );
            if !conditions.is_empty() {
                t.push_str(&format!(" Vilkår: {}.", conditions.join("; ")));
            }
            notes.push(Note {
                rule: "B1",
                applied: true,
                text: t,
            });
            summary["refund"] = json!({"group": g.number.code, "code": code, "term": c.code.name, "conditions": conditions});
            true
        }
    };
    if let Some(usage) = request.get_mut("use").and_then(Value::as_object_mut) {
        agree(usage, "use", "refund_listed", json!(listed), &fest)?;
    } else if listed {
        request["use"] = json!({ "refund_listed": true });
    }

    // H-prescription (F3): FEST's H-resept groups, checked against the § 1b list by the caller.
    let h = links_on(BASIS_H_PRESCRIPTION).first().map(|(g, _)| {
        g.eligible_use
            .clone()
            .unwrap_or_else(|| g.number.name.clone())
    });
    summary["h_prescription"] = json!(h);

    // Approval exemption (G1).
    if exemption {
        let how = m
            .exemption_application
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        notes.push(Note {
            rule: "G1",
            applied: true,
            text: format!("FEST: Preparattype 11 «krever godkjenningsfritak» ({how})."),
        });
    }
    summary["approval_exemption"] = json!(exemption);

    // Substitution (B7).
    // The group in force on the request's date, on both sides (PakningByttegruppe's dates).
    fn group_on(m: &crate::model::Medicine, date: Option<Date>) -> Option<&str> {
        match date {
            Some(d) => m.substitution_group_on(d),
            None => m.substitution_group.as_deref(),
        }
    }
    let substitutes: Vec<&str> = match group_on(m, date) {
        Some(g) => cat
            .packages
            .iter()
            .filter(|p| p.varenr != package.varenr && group_on(&p.medicine, date) == Some(g))
            .map(|p| p.varenr.as_str())
            .collect(),
        None => Vec::new(),
    };
    if !substitutes.is_empty() {
        notes.push(Note {
            rule: "B7",
            applied: true,
            text: format!("FEST: pakningen er i en byttegruppe med {} andre pakninger apoteket kan bytte til.", substitutes.len()),
        });
    }
    summary["substitutes"] = json!(substitutes);
    Ok(Some(Resolution {
        notes,
        h_prescription: h,
        summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> (Catalogue, Index) {
        let mut bytes = Vec::new();
        crate::generate::write(
            &mut bytes,
            &crate::generate::Options {
                packages: 800,
                ..Default::default()
            },
        )
        .unwrap();
        let cat = crate::parse(&bytes[..], |_| {}).unwrap();
        let index = Index::new(&cat);
        (cat, index)
    }

    fn varenr_of(cat: &Catalogue, atc: &str) -> String {
        cat.packages
            .iter()
            .find(|p| p.medicine.atc.as_ref().is_some_and(|a| a.code == atc))
            .unwrap()
            .varenr
            .clone()
    }

    #[test]
    fn a_product_and_a_refund_code_give_the_section_2_facts() {
        let (cat, index) = catalogue();
        let v = varenr_of(&cat, "C08CA01");
        let mut req = json!({"date": "2026-11-24", "drug": {"varenr": v}, "use": {"refund_code": "K86"}, "prescriber": {"role": "gp"}});
        let r = resolve(&mut req, &cat, &index).unwrap().unwrap();
        assert_eq!(req["drug"]["atc"], "C08CA01");
        assert_eq!(req["drug"]["substance"], "amlodipin");
        assert_eq!(req["use"]["refund_listed"], true);
        assert!(
            req["drug"].get("varenr").is_none(),
            "the contract sees v1 fields only"
        );
        assert!(r.notes.iter().any(|n| n.rule == "B1" && n.applied));
        assert!(r.notes.iter().any(|n| n.rule == "B7"));
    }

    #[test]
    fn a_refund_code_narrowed_by_a_subterm_says_so() {
        let (cat, index) = catalogue();
        let v = varenr_of(&cat, "N06BA04");
        let mut req = json!({"date": "2026-11-24", "drug": {"varenr": v}, "use": {"refund_code": "P06"}, "prescriber": {"role": "specialist"}});
        let r = resolve(&mut req, &cat, &index).unwrap().unwrap();
        assert_eq!(req["use"]["refund_listed"], true);
        let b1 = r.notes.iter().find(|n| n.rule == "B1").unwrap();
        assert!(b1.applied);
        assert!(b1.text.contains("bare «Narkolepsi»"), "{}", b1.text);
    }

    #[test]
    fn a_wrong_code_or_a_contradicting_fact_is_named() {
        let (cat, index) = catalogue();
        let v = varenr_of(&cat, "C08CA01");
        let mut req =
            json!({"date": "2026-11-24", "drug": {"varenr": v}, "use": {"refund_code": "T90"}});
        resolve(&mut req, &cat, &index).unwrap();
        assert_eq!(req["use"]["refund_listed"], false);
        let mut req = json!({"date": "2026-11-24", "drug": {"varenr": v, "atc": "C10AA05"}});
        assert_eq!(
            resolve(&mut req, &cat, &index).unwrap_err().field,
            "drug.atc"
        );
        let mut req = json!({"date": "2026-11-24", "drug": {"varenr": v}, "use": {"refund_code": "T90", "refund_listed": true}});
        assert_eq!(
            resolve(&mut req, &cat, &index).unwrap_err().field,
            "use.refund_listed"
        );
        let mut req = json!({"date": "2026-11-24", "drug": {"varenr": "999999"}});
        assert_eq!(
            resolve(&mut req, &cat, &index).unwrap_err().field,
            "drug.varenr"
        );
    }

    #[test]
    fn h_prescription_and_exemption_come_from_fest() {
        let (cat, index) = catalogue();
        let v = varenr_of(&cat, "H02AB13");
        let mut req = json!({"date": "2026-11-24", "drug": {"varenr": v}});
        let r = resolve(&mut req, &cat, &index).unwrap().unwrap();
        assert!(r.h_prescription.is_some());
        assert_eq!(req["drug"]["authorisation"], "unauthorised");
        assert!(r.notes.iter().any(|n| n.rule == "G1"));
        let mut plain =
            json!({"date": "2026-11-24", "drug": {"atc": "C08CA01", "substance": "amlodipin"}});
        assert!(
            resolve(&mut plain, &cat, &index).unwrap().is_none(),
            "contract v1 unchanged"
        );
    }
}
