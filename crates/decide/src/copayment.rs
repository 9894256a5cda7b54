//! **Co-payment** (egenandel) — blåreseptforskriften § 8; the ceiling from folketrygdloven § 5-3.

use domain::Digits;
use domain::{DecisionRequest, RuleId, Scheme};
use ruleset::{CapPer, RuleSet};

use crate::DecideError;
use crate::outcome::{Path, Trace, text};

/// Whether the patient pays a co-payment (domain.md §8): only on §§ 2–3 blue prescriptions.
/// None for children under 16, refund code -90, § 4, H-prescriptions and anything the specialist
/// service finances ("ingen egenandel på legemidler spesialisthelsetjenesten finansierer").
/// Minimum pensioners and occupational injury are exempt too, but the request does not carry
/// those facts; an unknown age is taken as an adult's.
pub fn copayment<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    path: &Path,
    t: &mut Trace<'r>,
) -> Result<bool, DecideError> {
    let none = match path.scheme {
        Scheme::S2 | Scheme::S3 => None,
        Scheme::S4 => Some("§ 4: ingen egenandel."),
        Scheme::HList => Some("H-resept: ingen egenandel."),
        Scheme::HfOffLabel | Scheme::HfTreatment | Scheme::ClinicalTrial => {
            Some("Spesialisthelsetjenesten finansierer legemidlet: ingen egenandel.")
        }
        Scheme::CompassionateUse => Some("Legemidlet leveres av produsenten: ingen egenandel."),
        Scheme::None => {
            Some("Ingen offentlig dekning: pasienten betaler hele prisen, som ikke er egenandel.")
        }
    };
    if let Some(text) = none {
        t.not_applied(RuleId::Copayment, text);
        return Ok(false);
    }
    let c = rules.copayment.at(req.date)?;
    let palliative = rules.palliative.at(req.date)?;
    let basis = &c.source.basis;
    if req.usage.refund_code.as_ref() == Some(&palliative.value.refund_code) {
        t.not_applied(
            RuleId::Copayment,
            format!(
                "Refusjonskode {}: ingen egenandel.",
                palliative.value.refund_code
            ),
        );
        return Ok(false);
    }
    let under = c.value.no_copayment_under_age;
    if let Some(age) = req.patient.age.filter(|&a| a < under) {
        t.not_applied(
            RuleId::Copayment,
            format!("Barn under {under} år ({age} år) betaler ikke egenandel."),
        );
        return Ok(false);
    }
    let per = match c.value.cap_per {
        CapPer::Prescription => "resept",
        CapPer::Dispensing => "utlevering",
    };
    let (share, cap, ceiling) = (
        Digits::int(u64::from(c.value.share_percent)),
        c.value.cap.kroner(),
        c.value.yearly_ceiling.kroner(),
    );
    t.applied(
        RuleId::Copayment,
        basis,
        text!(
            "Pasienten betaler egenandel: ",
            share.as_str(),
            " % av prisen, høyst ",
            &cap,
            " per ",
            per,
            ", til egenandelstaket på ",
            &ceiling,
            " er nådd (frikort)."
        ),
    );
    Ok(true)
}
