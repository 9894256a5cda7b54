//! **B6** — palliative care at the end of life: refund code -90.

use domain::{DecisionRequest, Payer, Prescription, RuleId, Scheme};
use ruleset::{InForce, Palliative};

use crate::outcome::{Path, Trace, atc_list, text};

/// **B6** Palliative care at end of life (seeds/001, «Palliativ behandling i livets sluttfase»):
/// lindrende behandling for uhelbredelig sykdom med forventet levetid under 12 måneder.
///
/// > De fleste opioider kan forskrives direkte på blå resept (forhåndsgodkjent refusjon) ved
/// > refusjonskode -90.
///
/// For the engine (domain.md B6): palliative + refund code -90 + an opioid in `N02A` /
/// `N07BC02` is § 2, with no long-term condition, no application and no co-payment. All three
/// facts are required; other medicines under -90 need `use.refund_listed` (B1).
pub fn b6<'r>(
    req: &DecisionRequest,
    rules: &'r InForce<Palliative>,
    t: &mut Trace<'r>,
) -> Option<Path> {
    let p = &rules.value;
    let code_90 = req.usage.refund_code.as_ref() == Some(&p.refund_code);
    let opioid = req.drug.atc.is_in_any(&p.opioids);
    if req.usage.palliative && code_90 && opioid {
        t.applied(RuleId::B6, &rules.source.basis, format!(
            "Palliativ behandling i livets sluttfase med opioid ({}) og refusjonskode {}: direkte på blå resept \
             (forhåndsgodkjent refusjon) uten krav om langvarig behandling, uten søknad og uten egenandel.",
            req.drug.atc, p.refund_code
        ));
        return Some(Path::new(
            Scheme::S2,
            Payer::Folketrygden,
            Prescription::Blue,
        ));
    }
    if req.usage.palliative || code_90 {
        let missing = match (req.usage.palliative, code_90, opioid) {
            (false, _, _) => {
                "pasienten er ikke oppgitt å få palliativ behandling i livets sluttfase".to_string()
            }
            (true, false, _) => format!("refusjonskode {} er ikke oppgitt", p.refund_code),
            _ => format!(
                "{} er ikke et opioid i {}",
                req.drug.atc,
                atc_list(&p.opioids)
            ),
        };
        t.not_applied(
            RuleId::B6,
            format!("Ikke forhåndsgodkjent etter B6: {missing}."),
        );
    } else {
        t.not_applied(
            RuleId::B6,
            text!(
                "Ikke palliativ behandling med refusjonskode ",
                p.refund_code.as_str(),
                "."
            ),
        );
    }
    None
}
