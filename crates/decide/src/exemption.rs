//! **G1, G2** — medicines without Norwegian marketing authorisation need an approval exemption.

use domain::{ActionKind, Authorisation, BlockerCode, DecisionRequest, PrescriberRole, RuleId};
use ruleset::RuleSet;

use crate::DecideError;
use crate::citation;
use crate::outcome::{Action, Path, Trace};

/// **G1** Approval exemption (legemiddelforskriften § 2-5; seeds/003): a medicine without
/// Norwegian MT may only be used with a godkjenningsfritak, whoever pays. The doctor applies to
/// DMP, or the pharmacy notifies; per patient, practice or hospital department, for at most one
/// year. Applies on every path where a medicine is prescribed or given, including hospital use;
/// clinical trials and compassionate use have their own permissions and never reach this rule.
///
/// **G2** "Only hospital specialists may apply for unregistered cannabis products with more than
/// 1 % THC": strictly above the threshold; exactly 1 % is not more than 1 %. Contract reading:
/// the hospital specialist is the `hospital_doctor` role.
pub fn g1_g2<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    path: &mut Path,
    t: &mut Trace<'r>,
) -> Result<(), DecideError> {
    if req.drug.authorisation != Authorisation::Unauthorised {
        if req.drug.thc_percent.is_some() {
            t.not_applied(RuleId::G2, "Produktet har norsk markedsføringstillatelse: kravet for uregistrerte cannabisprodukter gjelder ikke.");
        }
        return Ok(());
    }
    path.act(Action::new(ActionKind::Godkjenningsfritak));
    t.applied(RuleId::G1, citation::G1,
        "Legemidlet har ikke norsk markedsføringstillatelse: bruken krever godkjenningsfritak. Legen søker DMP (eller apoteket \
         melder), per pasient, praksis eller avdeling, for en mengde eller periode på høyst ett år, med medisinsk begrunnelse.");
    g3(req, rules, t)?;
    let Some(thc) = req.drug.thc_percent else {
        return Ok(());
    };
    let cannabis = rules.cannabis.at(req.date)?;
    let limit = cannabis.value.thc_percent_above;
    let basis = &cannabis.source.basis;
    if thc.get() <= limit {
        t.not_applied(
            RuleId::G2,
            format!("THC-innhold {thc} % er ikke over {limit} %: ingen særskilt krav til søkeren."),
        );
    } else if req.prescriber == PrescriberRole::HospitalDoctor {
        t.applied(RuleId::G2, basis, format!(
            "Uregistrert cannabisprodukt med {thc} % THC (over {limit} %): bare sykehusspesialister kan søke, og forskriveren er sykehuslege."
        ));
    } else {
        t.applied(RuleId::G2, basis, format!(
            "Uregistrert cannabisprodukt med {thc} % THC (over {limit} %): bare sykehusspesialister kan søke godkjenningsfritak."
        ));
        path.block(BlockerCode::PrescriberNotQualified, format!(
            "Bare sykehusspesialister kan søke godkjenningsfritak for cannabisprodukter med mer enn {limit} % THC."
        ));
    }
    Ok(())
}

/// **G3** When a product with MT enters the market and replaces unregistered ones, the
/// unregistered products may still be dispensed for a transition of up to 90 days; after it the
/// pharmacy's notification no longer does, and DMP must approve an exemption that says why the
/// marketed product cannot be used, or that it is in shortage (G4). Not a blocker: the doctor
/// may still apply.
fn g3<'r>(req: &DecisionRequest, rules: &'r RuleSet, t: &mut Trace<'r>) -> Result<(), DecideError> {
    let transitions = rules.transitions.at(req.date)?;
    let Some(r) = transitions.value.replacing(&req.drug.atc, req.date) else {
        return Ok(());
    };
    if req.date <= r.last_day {
        t.applied(RuleId::G3, citation::G3, format!(
            "{} har markedsføringstillatelse fra {} og erstatter uregistrerte produkter med {}: de kan fortsatt utleveres i overgangsperioden, til og med {}.",
            r.marketed, r.marketed_from, r.atc, r.last_day
        ));
    } else {
        t.applied(RuleId::G3, citation::G3, format!(
            "Overgangsperioden etter at {} kom på markedet sluttet {}: apoteket kan ikke lenger melde fritaket. Legen må søke DMP og begrunne hvorfor det markedsførte legemidlet ikke kan brukes, eller vise til mangel på det (G4).",
            r.marketed, r.last_day
        ));
    }
    Ok(())
}
