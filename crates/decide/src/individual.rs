//! **B3–B5** — blåreseptforskriften § 3: individual application to Helfo, and who may file it.

use std::borrow::Cow;

use domain::{
    ActionKind, Applicant, Authorisation, BlockerCode, DecisionRequest, OpioidKind, Pain,
    PatientId, Payer, PrescriberRole, Prescription, RuleId, Scheme,
};
use ruleset::{ApplicantRules, InForce, OpioidRules, RuleSet};

use crate::DecideError;
use crate::citation;
use crate::general;
use crate::outcome::{Action, Path, Text, Trace, atc_list, text};

/// **B3** § 3 individual application (seeds/001, «Søknad om individuell stønad»): a medicine
/// that cannot be written directly on blue prescription may be applied for. Conditions, which
/// the application documents: serious disease; long-term need (checked here); an approved
/// indication in the EEA or the UK with documented effect (else a specialist applies with
/// scientific documentation: B4); weighty reasons why the relevant medicines cannot be used.
/// If granted, the doctor must write it on blue prescription. Without a fødselsnummer or
/// D-number, a paper application.
pub fn b3<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    t: &mut Trace<'r>,
) -> Result<Path, DecideError> {
    t.applied(RuleId::B3, citation::S3,
        "Kan ikke forskrives direkte på blå resept: legen kan søke Helfo om individuell stønad. Vilkår: alvorlig sykdom \
         (eller risikofaktorer som med høy sannsynlighet gir alvorlig sykdom), langvarig behov, godkjent bruksområde i EØS \
         eller Storbritannia med dokumentert effekt, og tungtveiende medisinske grunner til at relevante legemidler ikke \
         kan brukes. Innvilges søknaden, skrives legemidlet på blå resept. Har et helseforetak tilbudt utprøvende \
         behandling, dekker helseforetaket den.");
    let mut path = Path::new(Scheme::S3, Payer::Folketrygden, Prescription::Blue);

    let applicant = applicant(req, rules, &mut path, t)?;
    let kind = if req.patient.id == PatientId::None {
        t.applied(
            RuleId::B3,
            citation::S3,
            "Pasienten har verken fødselsnummer eller D-nummer: søknaden må sendes på papir.",
        );
        ActionKind::HelfoPaperApplication
    } else {
        ActionKind::HelfoApplication
    };
    path.act(Action {
        kind,
        applicant: Some(applicant),
    });
    // B5 reading: for cancer pain a pain-clinic doctor is a doctor at a corresponding hospital
    // department (see `b5`).
    let cancer_pain_at_pain_clinic = req.opioid.pain == Some(Pain::Cancer)
        && req.prescriber == PrescriberRole::PainClinic
        && rules
            .opioids
            .at(req.date)
            .is_ok_and(|o| req.drug.atc.is_in_any(&o.value.scope));
    if !req.prescriber.may_apply_as(applicant) && !cancer_pain_at_pain_clinic {
        path.block(
            BlockerCode::PrescriberNotQualified,
            format!(
                "Søknaden må komme fra {}; en søknad fra {} blir avslått.",
                applicant.describe(),
                role_name(req.prescriber)
            ),
        );
    }
    general::long_term(req, rules.general.at(req.date)?, &mut path, t);
    Ok(path)
}

/// Who must apply: the public-hospital brands first (B4), then B5 for opioids used for pain,
/// then the specialist requirements of B4.
fn applicant<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    path: &mut Path,
    t: &mut Trace<'r>,
) -> Result<Applicant, DecideError> {
    let b4 = rules.applicant.at(req.date)?;
    if let Some(brand) = b4.value.public_hospital_only.iter().find(|b| {
        b.matches(
            &req.drug.atc,
            req.drug.brand.as_deref(),
            req.usage.refund_code.as_ref(),
        )
    }) {
        t.applied(
            RuleId::B4,
            &b4.source.basis,
            format!(
                "{} ({}): søknaden skal komme fra lege ved offentlig sykehus.",
                brand.brand, brand.substance
            ),
        );
        return Ok(Applicant::PublicHospital);
    }
    let opioids = rules.opioids.at(req.date)?;
    let in_scope = req.drug.atc.is_in_any(&opioids.value.scope);
    match (in_scope, req.opioid.pain) {
        (true, Some(pain)) => return b5(req, pain, opioids, path, t),
        (true, None) => t.not_applied(RuleId::B5,
            "Opioid uten oppgitt smertetype (opioid.pain): reglene for opioider mot smerter gjelder ikke; B4 avgjør."),
        (false, Some(_)) => t.not_applied(RuleId::B5, format!(
            "{} er ikke i omfanget for opioidreglene ({}): de gjelder ikke.",
            req.drug.atc,
            atc_list(&opioids.value.scope)
        )),
        (false, None) => {}
    }
    Ok(b4_specialist(req, b4, t))
}

/// **B4** Who may apply under § 3 (seeds/001, «Hvem kan søke om individuell stønad»):
///
/// > Søknaden skal komme fra en spesialist i sykdommens fagfelt eller en lege ved et offentlig
/// > sykehus når legemidlet ikke er markedsført for den aktuelle bruken i Norge; legemidlet er i
/// > reseptgruppe A eller B – se unntak for opioider i ATC-gruppe N02A, R05DA04 og pregabalin;
/// > søknaden gjelder PCSK9-hemmere, CGRP-hemmere og botulinumtoksin-legemidler; [eller DMP har
/// > satt spesialistvilkår for sykdommen].
///
/// Readings: "not marketed for the use" covers a use outside the approved indication (B3: "må en
/// spesialist søke") as well as a medicine that is not marketed or has no MT. DMP's specialist
/// conditions per disease are not known to the engine without a drug catalogue; the explanation
/// says so when no other requirement applies.
fn b4_specialist<'r>(
    req: &DecisionRequest,
    b4: &'r InForce<ApplicantRules>,
    t: &mut Trace<'r>,
) -> Applicant {
    let r = &b4.value;
    let atc = &req.drug.atc;
    let mut reasons: Vec<Cow<'static, str>> = Vec::new();
    if !req.usage.on_label {
        reasons.push(
            "bruk utenfor godkjent bruksområde (legg ved vitenskapelig dokumentasjon for effekt)"
                .into(),
        );
    }
    match req.drug.authorisation {
        Authorisation::Marketed => {}
        Authorisation::NotMarketed => reasons.push("legemidlet er ikke markedsført i Norge".into()),
        Authorisation::Unauthorised => {
            reasons.push("legemidlet har ikke norsk markedsføringstillatelse".into())
        }
    }
    let mut exempt = None;
    if let Some(group) = req
        .drug
        .prescription_group
        .filter(|g| r.specialist_prescription_groups.contains(g))
    {
        if atc.is_in_any(&r.group_ab_exempt) {
            exempt = Some(group);
        } else {
            reasons.push(format!("reseptgruppe {group}").into());
        }
    }
    if let Some(named) = r.specialist_groups.iter().find(|g| atc.is_in(&g.atc)) {
        reasons.push(format!("søknaden gjelder {}", named.name).into());
    }
    let exempt_text = exempt.map_or(Text::Borrowed(""), |g| {
        let exempt_groups = atc_list(&r.group_ab_exempt);
        text!(
            " Reseptgruppe ",
            g.code(),
            " utløser ikke spesialistkrav for ",
            atc.as_str(),
            " (unntatt: ",
            &exempt_groups,
            ")."
        )
    });
    if reasons.is_empty() {
        t.applied(
            RuleId::B4,
            &b4.source.basis,
            text!(
                "Ingen spesialistkrav er kjent: enhver lege kan søke.",
                &exempt_text,
                " (Har DMP satt spesialistvilkår for sykdommen, må spesialist søke.)"
            ),
        );
        Applicant::AnyDoctor
    } else {
        t.applied(RuleId::B4, &b4.source.basis, format!(
            "Spesialist i sykdommens fagfelt eller lege ved offentlig sykehus må søke: {}.{exempt_text}",
            reasons.join("; ")
        ));
        Applicant::SpecialistOrHospital
    }
}

/// **B5** Opioids for pain (seeds/001, «Individuell stønad til opioider …»; refund code -71):
/// for opioids in the -71 scope used for pain, B5 decides who applies, not the group A/B rule.
///
/// - Cancer pain: a specialist in the field or a doctor at a corresponding hospital department.
/// - Long-term non-cancer pain: GPs, doctors at a GP office and pain-clinic doctors may apply; a
///   pain-clinic doctor must when the total daily dose is over 100 and up to 300 mg OMEQ (100
///   itself is the GP's), for methadone, fast-acting or non-marketed opioids, or an unclarified
///   pain condition. Over 300 mg OMEQ is not covered on blue prescription.
///
/// Reading: an unclarified pain condition is non-cancer pain (it stands in Helfo's section on
/// non-cancer pain), so the 300 mg cap applies to it too. The dose is required for non-cancer
/// and unclarified pain, since it decides who may apply.
/// **B5** who applies for an opioid against pain, and the 300 mg OMEQ cap.
///
/// Readings where the seeds are silent:
/// - **«enkelte hurtigvirkende opioider»** («certain fast-acting opioids») need the pain clinic.
///   The seeds do not say which; every opioid the application marks as fast-acting
///   (`opioid.kind = fast_acting`) is read as one of them — the stricter reading, which a
///   caseworker can relax but a patient cannot be harmed by.
/// - **A pain-clinic doctor and cancer pain:** cancer pain is applied for by a specialist in the
///   disease's field or a doctor at a corresponding hospital department. A tverrfaglig
///   smerteklinikk is a hospital department (its doctors mostly anaesthesiologists, one of the
///   fields listed), so its doctors may apply for cancer pain — and only there: for PCSK9
///   inhibitors, say, the pain clinic is not the disease's field.
/// - **Use outside the approved indication** (B3) needs a specialist on this path too: for pain,
///   the pain clinic.
fn b5<'r>(
    req: &DecisionRequest,
    pain: Pain,
    o: &'r InForce<OpioidRules>,
    path: &mut Path,
    t: &mut Trace<'r>,
) -> Result<Applicant, DecideError> {
    let r = &o.value;
    let basis = &o.source.basis;
    if pain == Pain::Cancer {
        t.applied(RuleId::B5, basis,
            "Opioider ved kreftsmerter: søknaden må komme fra spesialist i sykdommens fagfelt eller lege ved tilsvarende \
             avdeling på offentlig sykehus. Vedtaket gjelder flere markedsførte opioider med døgndosen i søknaden.");
        return Ok(Applicant::SpecialistOrHospital);
    }
    let dose = req
        .opioid
        .omeq
        .ok_or_else(|| DecideError::input(
            "opioid.omeq",
            "påkrevd når opioid.pain er non_cancer eller unclarified: samlet døgndose i mg OMEQ avgjør hvem som kan søke (B5)",
        ))?
        .get();
    let methadone =
        req.opioid.kind == OpioidKind::Methadone || req.drug.atc.is_in_any(&r.methadone);
    let mut reasons: Vec<Cow<'static, str>> = Vec::new();
    if dose > f64::from(r.gp_max_omeq) {
        reasons.push(
            format!(
                "samlet døgndose {dose} mg OMEQ er over {} mg",
                r.gp_max_omeq
            )
            .into(),
        );
    }
    if methadone {
        reasons.push("metadon".into());
    }
    if req.opioid.kind == OpioidKind::FastActing {
        reasons.push("hurtigvirkende opioid".into());
    }
    if req.opioid.kind == OpioidKind::NotMarketed
        || req.drug.authorisation != Authorisation::Marketed
    {
        reasons.push("ikke-markedsført opioid".into());
    }
    if pain == Pain::Unclarified {
        reasons.push("uavklart smertetilstand".into());
    }
    // B3 (approved use) holds on this path too: use outside the approved indication is applied
    // for by a specialist with scientific documentation — for pain, the pain clinic.
    if !req.usage.on_label {
        reasons.push("bruk utenfor godkjent bruksområde (B3: spesialist søker, med vitenskapelig dokumentasjon)".into());
    }
    let per_product = methadone
        || req.opioid.kind != OpioidKind::Standard
        || req.drug.authorisation != Authorisation::Marketed;
    let how = if per_product {
        "Send én søknad per preparat."
    } else {
        "Send én søknad selv om pasienten bruker flere opioider: oppgi ett preparat og samlet døgndose."
    };
    let applicant = if reasons.is_empty() {
        t.applied(RuleId::B5, basis, format!(
            "Opioid ved langvarige ikke-kreftrelaterte smerter, samlet døgndose {dose} mg OMEQ (høyst {} mg): fastlege, lege ved \
             fastlegekontor eller lege ved tverrfaglig smerteklinikk kan søke. {how}",
            r.gp_max_omeq
        ));
        Applicant::GpOrPainClinic
    } else {
        t.applied(RuleId::B5, basis, format!(
            "Opioid ved ikke-kreftrelaterte smerter: lege ved tverrfaglig smerteklinikk må søke ({}). {how}",
            reasons.join("; ")
        ));
        Applicant::PainClinic
    };
    if dose > f64::from(r.blue_max_omeq) {
        path.block(BlockerCode::OmeqOverLimit, format!(
            "Samlet døgndose {dose} mg OMEQ er over {} mg: dekkes ikke på blå resept ved ikke-kreftrelaterte smerter, \
             og kan ikke deles på blå og hvit resept.",
            r.blue_max_omeq
        ));
    }
    Ok(applicant)
}

/// The prescriber's role in words.
pub fn role_name(role: PrescriberRole) -> &'static str {
    match role {
        PrescriberRole::Gp => "fastlege",
        PrescriberRole::Specialist => "spesialist utenfor offentlig sykehus",
        PrescriberRole::HospitalDoctor => "lege ved offentlig sykehus",
        PrescriberRole::PainClinic => "lege ved tverrfaglig smerteklinikk",
    }
}
