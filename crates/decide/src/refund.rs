//! **B1** — blåreseptforskriften § 2: pre-approved refund, written directly on blue prescription.

use domain::{DecisionRequest, Payer, Prescription, RuleId, Scheme};
use ruleset::RuleSet;

use crate::DecideError;
use crate::citation;
use crate::general;
use crate::outcome::{Path, Trace};

/// **B1** § 2 pre-approved refund (seeds/001): where the medicine, the use (refund code) and any
/// refund conditions are on DMP's refund list, the doctor prescribes directly on blue
/// prescription and must **not** apply. By writing it the doctor confirms that the use is
/// refund-eligible, the disease is covered by the refund code, the conditions are met, and the
/// need is long-term: "Alle disse vilkårene må være oppfylt."
///
/// `use.refund_listed` states the first three; the fourth is checked here. Refund code -90
/// (palliative, refund condition 136: "refusjon selv om bruken er under tre måneder") is exempt.
pub fn b1<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    t: &mut Trace<'r>,
) -> Result<Option<Path>, DecideError> {
    if !req.usage.refund_listed {
        t.not_applied(RuleId::B1, "Bruken er ikke oppgitt å stå på refusjonslisten (§ 2) med refusjonskode og oppfylte vilkår.");
        return Ok(None);
    }
    let palliative = rules.palliative.at(req.date)?;
    let code_90 = req.usage.refund_code.as_ref() == Some(&palliative.value.refund_code);
    t.applied(RuleId::B1, citation::S2, format!(
        "Legemidlet og bruken{} står på refusjonslisten, og vilkårene er oppfylt: skriv direkte på blå resept. \
         Ikke søk Helfo.",
        req.usage.refund_code.as_ref().map(|c| format!(" (refusjonskode {c})")).unwrap_or_default()
    ));
    let mut path = Path::new(Scheme::S2, Payer::Folketrygden, Prescription::Blue);
    if code_90 {
        t.applied(RuleId::B6, &palliative.source.basis, format!(
            "Refusjonskode {}: refusjon selv om bruken er under tre måneder (refusjonsvilkår 136).",
            palliative.value.refund_code
        ));
    } else {
        general::long_term(req, rules.general.at(req.date)?, &mut path, t);
    }
    Ok(Some(path))
}
