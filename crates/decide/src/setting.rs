//! **F1, F7** — where the medicine is given decides before any list or paragraph does.

use domain::{DecisionRequest, Payer, Prescription, RuleId, Scheme, Setting};

use crate::citation;
use crate::outcome::{Path, Trace};

/// **F1** Responsibility follows treatment responsibility (seeds/000, seeds/002 §3.1): the HF
/// pays for medicines used in hospital (admitted or outpatient), in LAR and in compulsory mental
/// health care. **F7** Clinical trials (the HF pays, F1 "utprøvende legemiddelbehandling") and
/// compassionate use (supplied by the manufacturer) are outside the off-label framework.
///
/// The contract fixes the papers: none in hospital; an H-prescription in LAR (the medicines are
/// collected at a pharmacy); none in trials and compassionate use.
pub fn f1_f7<'r>(req: &DecisionRequest, t: &mut Trace<'r>) -> Option<Path> {
    let (scheme, payer, prescription, rule, text): (_, _, _, _, &'static str) = match req.setting {
        Setting::PatientAdministered => {
            t.not_applied(RuleId::F1, "Pasientadministrert behandling utenfor sykehus: finansieringen avgjøres av reglene nedenfor.");
            return None;
        }
        Setting::Inpatient => (
            Scheme::HfTreatment,
            Payer::Hf,
            Prescription::None,
            RuleId::F1,
            "Legemidler brukt under innleggelse i sykehus finansieres av helseforetaket, som del av behandlingen; ingen resept.",
        ),
        Setting::Outpatient => (
            Scheme::HfTreatment,
            Payer::Hf,
            Prescription::None,
            RuleId::F1,
            "Legemidler brukt i poliklinisk behandling finansieres av helseforetaket; ingen resept.",
        ),
        Setting::CompulsoryMentalHealth => (
            Scheme::HfTreatment,
            Payer::Hf,
            Prescription::None,
            RuleId::F1,
            "Legemidler i tvungent psykisk helsevern finansieres av helseforetaket; ingen resept.",
        ),
        Setting::Lar => (
            Scheme::HfTreatment,
            Payer::Hf,
            Prescription::H,
            RuleId::F1,
            "Legemidler i legemiddelassistert rehabilitering (LAR) finansieres av helseforetaket og forskrives på H-resept.",
        ),
        Setting::ClinicalTrial => (
            Scheme::ClinicalTrial,
            Payer::Hf,
            Prescription::None,
            RuleId::F7,
            "Godkjent klinisk studie: utenfor rammeverket for off-label-bruk; utprøvende behandling finansieres av helseforetaket (F1).",
        ),
        Setting::CompassionateUse => (
            Scheme::CompassionateUse,
            Payer::Other,
            Prescription::None,
            RuleId::F7,
            "Compassionate use før markedsføringstillatelse: utenfor rammeverket; legemidlet leveres av produsenten.",
        ),
    };
    let citation = if rule == RuleId::F1 {
        citation::F1
    } else {
        citation::F7
    };
    t.applied(rule, citation, text);
    Some(Path::new(scheme, payer, prescription))
}
