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
