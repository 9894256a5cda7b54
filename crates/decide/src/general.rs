//! The general conditions of any blue prescription under §§ 2–3 (domain.md §8): membership of
//! the National Insurance and long-term need. Neither applies to § 4; the long-term condition
//! does not apply to palliative code -90.

use domain::{BlockerCode, DecisionRequest, Payer, Prescription, RuleId, Scheme};
use ruleset::{GeneralConditions, InForce};

use crate::citation;
use crate::outcome::{Path, Trace, text};
use domain::Digits;

/// **Long-term need** (blåreseptforskriften § 1b første ledd; seeds/001 «Langvarig behandling»):
/// "behov for bruk av ett eller flere legemidler i minst tre måneder i løpet av ett år for samme
/// sykdom. Tremånedersperioden trenger ikke å være sammenhengende." Risk of repeated treatment
/// over a long period, or keeping the medicine in readiness much of the year, also meets it.
/// Exactly three months meets it ("minst").
pub fn long_term<'r>(
    req: &DecisionRequest,
    rules: &'r InForce<GeneralConditions>,
    path: &mut Path,
    t: &mut Trace<'r>,
) {
    let min = rules.value.long_term_min_months;
    let months = req.treatment.months_per_year;
    let basis = &rules.source.basis;
    if months.get() >= f64::from(min) {
        let (m, n) = (Digits::num(months.get()), Digits::int(u64::from(min)));
        t.applied(
            RuleId::General,
            basis,
            text!(
                "Langvarig behandling: ",
                m.as_str(),
                " måneder i løpet av ett år (minst ",
                n.as_str(),
                ")."
            ),
        );
    } else if req.treatment.repeated {
        t.applied(RuleId::General, basis, format!(
            "Langvarig behandling: bare {months} måneder i året, men risiko for gjentatt behandling over lang tid \
             (eller legemidlet må være i beredskap)."
        ));
    } else {
        t.applied(RuleId::General, basis, format!(
            "Ikke langvarig behandling: {months} måneder i løpet av ett år er under {min}, uten risiko for gjentatt behandling."
        ));
        path.block(BlockerCode::NotLongTerm, format!(
            "Vilkåret om langvarig behandling er ikke oppfylt: behovet må være minst {min} måneder i løpet av ett år \
             (ikke nødvendigvis sammenhengende), eller det må være risiko for gjentatt behandling over lang tid."
        ));
    }
}

/// **Membership** (domain.md §8): stønad under §§ 2–3 needs membership of the National
/// Insurance; § 4 is for everyone staying in Norway; the RHF and HF paths do not ask.
pub fn membership<'r>(req: &DecisionRequest, path: &mut Path, t: &mut Trace<'r>) {
    if !path.is_blue_s2_s3() {
        return;
    }
    if req.patient.member {
        t.not_applied(RuleId::General, "Pasienten er medlem av folketrygden.");
    } else {
        t.applied(
            RuleId::General,
            citation::MEMBERSHIP,
            "Pasienten er ikke medlem av folketrygden.",
        );
        path.block(BlockerCode::NotMember,
            "Pasienten er ikke medlem av folketrygden: ingen stønad etter blåreseptforskriften §§ 2–3. \
             (§ 4 gjelder alle som oppholder seg i Norge.)");
    }
}

/// **Veterinary medicines** (ATCvet codes, leading `Q`): blåreseptforskriften covers a person's
/// disease (§ 1), never an animal's, and neither the RHF nor the HF finance veterinary use. The
/// animal's owner pays, on an ordinary (white) prescription. Reading: the contract accepts ATCvet
/// codes; this is what a pharmacist does with them.
pub fn veterinary<'r>(req: &DecisionRequest, t: &mut Trace<'r>) -> Option<Path> {
    if !req.drug.atc.is_vet() {
        return None;
    }
    t.applied(
        RuleId::General,
        citation::HUMAN_DISEASE,
        text!(
            "Veterinærlegemiddel (ATCvet ",
            req.drug.atc.as_str(),
            "): ingen stønad etter blåreseptforskriften, \
         og ingen finansiering fra RHF eller HF. Dyreeieren betaler."
        ),
    );
    Some(Path::new(Scheme::None, Payer::Patient, Prescription::White))
}
