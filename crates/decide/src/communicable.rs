//! **B2** — blåreseptforskriften § 4: medicines for generally dangerous communicable diseases.

use domain::{ActionKind, DecisionRequest, Payer, Prescription, RuleId, Scheme};
use ruleset::{Communicable, InForce};

use crate::outcome::{Action, Path, Trace};

/// **B2** § 4 infectious diseases (seeds/001, «Legemidler ved smittsomme sykdommer»).
///
/// > Du kan forskrive legemidler til behandling av allmennfarlige smittsomme sykdommer direkte
/// > på blå resept … antiinfektive legemidler med ATC-kode J; antiinfektive og dermatologiske
/// > legemidler til behandling og sanering av MRSA; immunstimulerende legemidler i ATC-kode L03A.
/// > … Alle som oppholder seg i Norge, har rettigheter etter blåreseptforskriften § 4,
/// > uavhengig av medlemskap i folketrygden.
///
/// Vaccines, immunoglobulins and immune sera (`J06`, `J07`) for these diseases are ordered and
/// supplied through FHI. Other preventive vaccines are not covered at all: the patient pays.
///
/// Readings: the MRSA fact is the caller's statement that the medicine treats or decolonises
/// MRSA, whatever its ATC group. A `J06`/`J07` product with the MRSA fact is still supplied
/// through FHI, never on blue. A `J06` product (an immunoglobulin) without either fact is not a
/// preventive vaccine: it goes on to §§ 2–3 like any other medicine.
pub fn b2<'r>(
    req: &DecisionRequest,
    rules: &'r InForce<Communicable>,
    t: &mut Trace<'r>,
) -> Option<Path> {
    let g = &rules.value;
    let basis = rules.source.basis.as_str();
    let atc = &req.drug.atc;
    let dangerous = req.usage.generally_dangerous_infection;
    let mrsa = req.usage.mrsa;
    let everyone = "Gjelder alle som oppholder seg i Norge, uavhengig av medlemskap; ingen søknad og ingen egenandel.";

    if atc.is_in_any(&g.fhi_supplied) {
        if dangerous || mrsa {
            t.applied(RuleId::B2, basis, format!(
                "Vaksine, immunglobulin eller immunserum ({atc}) mot allmennfarlig smittsom sykdom: rekvireres og utleveres \
                 fra Folkehelseinstituttet, ikke på blå resept. {everyone}"
            ));
            let mut path = Path::new(Scheme::S4, Payer::Folketrygden, Prescription::Fhi);
            path.act(Action::new(ActionKind::FhiOrder));
            return Some(path);
        }
        if atc.is_in_any(&g.preventive_vaccines) {
            t.applied(RuleId::B2, basis,
                "Forebyggende vaksine uten allmennfarlig smittsom sykdom: dekkes ikke etter § 4, og ikke etter §§ 2–3 \
                 (forebygging hos friske er ikke sykdom). Pasienten betaler selv.");
            return Some(Path::new(Scheme::None, Payer::Patient, Prescription::White));
        }
    }
    let group = if atc.is_in_any(&g.anti_infectives) {
        Some("antiinfektivt legemiddel (ATC J)")
    } else if atc.is_in_any(&g.immunostimulants) {
        Some("immunstimulerende legemiddel (ATC L03A)")
    } else {
        None
    };
    match group {
        Some(group) if dangerous => {
            t.applied(RuleId::B2, basis, format!(
                "{group} mot allmennfarlig smittsom sykdom: direkte på blå resept etter § 4, markedsført eller ikke. {everyone}"
            ));
            Some(Path::new(
                Scheme::S4,
                Payer::Folketrygden,
                Prescription::Blue,
            ))
        }
        _ if mrsa => {
            t.applied(
                RuleId::B2,
                basis,
                format!(
                    "Behandling eller sanering av MRSA: direkte på blå resept etter § 4. {everyone}"
                ),
            );
            Some(Path::new(
                Scheme::S4,
                Payer::Folketrygden,
                Prescription::Blue,
            ))
        }
        Some(group) => {
            t.not_applied(RuleId::B2, format!(
                "{group}, men ikke oppgitt til allmennfarlig smittsom sykdom eller MRSA: ingen § 4-dekning (kan gå etter § 2 eller § 3)."
            ));
            None
        }
        None if dangerous => {
            t.not_applied(RuleId::B2, format!(
                "{atc} er verken i ATC J eller L03A: § 4 dekker ikke legemidlet selv om sykdommen er allmennfarlig smittsom."
            ));
            None
        }
        None => {
            t.not_applied(RuleId::B2, "Ikke et legemiddel mot allmennfarlig smittsom sykdom eller MRSA: § 4 gjelder ikke.");
            None
        }
    }
}
