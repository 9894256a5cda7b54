//! **O1–O5** — off-label and off-licence use started in specialist care (seeds/002).

use domain::{
    ActionKind, Authorisation, BlockerCode, DecisionRequest, NyeMetoder, Payer, Prescription,
    RuleId, Scheme, StartedIn,
};
use ruleset::RuleSet;

use crate::DecideError;
use crate::citation;
use crate::individual;
use crate::outcome::{Action, Path, Trace};

/// Whether the framework applies: use outside the approved indication (off-label) or of a
/// medicine without Norwegian MT (off-licence), started in specialist care (seeds/002 §3.1:
/// "Dette gjelder også bruk av legemidler uten norsk markedsføringstillatelse (off license/
/// uregistrerte) og legemidler brukt utenfor godkjent bruksområde (off label)").
pub fn is_off_label_in_specialist_care(req: &DecisionRequest) -> bool {
    req.started_in == StartedIn::Specialist
        && (!req.usage.on_label || req.drug.authorisation == Authorisation::Unauthorised)
}

/// **O1** The decision flow (seeds/002 §5, flowchart):
/// 1. Established, consensus-based treatment whose documentation meets Helfo's § 3 requirement
///    → apply to Helfo (B3). If Helfo refuses, the HF pays (step 2).
/// 2. Otherwise (trial treatment, or Helfo will not cover) → the HF is financing-responsible
///    and decides.
/// 3. Nye metoder: under assessment → use is avoided, apply for the exception; Beslutningsforum
///    "no" → the HF does not offer it; "yes" → follow the decision; not there → local procedure.
/// 4. Financing is settled before treatment starts.
///
/// Reading: the contract places this before `use.refund_listed`; a use on the § 2 list is by
/// definition within the approved indication, so the two facts together are contradictory and
/// the framework's path is taken.
pub fn o1<'r>(
    req: &DecisionRequest,
    rules: &'r RuleSet,
    t: &mut Trace<'r>,
) -> Result<Option<Path>, DecideError> {
    if !is_off_label_in_specialist_care(req) {
        let outside = !req.usage.on_label || req.drug.authorisation == Authorisation::Unauthorised;
        t.not_applied(RuleId::O1, if outside {
            "Bruk utenfor godkjent indikasjon eller uten MT, startet i primærhelsetjenesten: rammeverket for \
             spesialisthelsetjenesten gjelder ikke (se § 3 nedenfor)."
        } else {
            "Bruk innenfor godkjent indikasjon: rammeverket for off-label-bruk gjelder ikke."
        });
        return Ok(None);
    }
    let kind = if req.drug.authorisation == Authorisation::Unauthorised {
        "uten norsk markedsføringstillatelse (off-licence)"
    } else {
        "utenfor godkjent indikasjon (off-label)"
    };

    // Step 1: established treatment that Helfo is expected to cover.
    if req.usage.established && req.usage.helfo_documentation {
        t.applied(RuleId::O1, citation::O1, format!(
            "Bruk {kind} startet i spesialisthelsetjenesten, etablert og konsensusbasert, med dokumentasjon som oppfyller \
             Helfos krav (effekt på gruppenivå): søk Helfo om individuell stønad etter § 3. Avslår Helfo, er helseforetaket \
             finansieringsansvarlig (trinn 2)."
        ));
        return individual::b3(req, rules, t).map(Some);
    }

    // Step 2: the HF pays and decides.
    let why = if req.usage.established {
        "etablert behandling, men dokumentasjonen oppfyller ikke Helfos krav"
    } else {
        "utprøvende behandling"
    };
    t.applied(RuleId::O1, citation::O1, format!(
        "Bruk {kind} startet i spesialisthelsetjenesten ({why}): helseforetaket er finansieringsansvarlig og beslutter. \
         Finansieringen skal være avklart før behandlingen starter."
    ));
    let mut path = Path::new(Scheme::HfOffLabel, Payer::Hf, Prescription::WhiteNote);

    // Step 3: Nye metoder. Reading — a method *under assessment* (the seeds: «bruk unngås i
    // vurderingsperioden») is not a stop: the trust may use it by exception, so the path gets the
    // action `nye_metoder` (apply for the exception) and no blocker; only Beslutningsforum's «nei»
    // blocks.
    match req.usage.nye_metoder {
        NyeMetoder::None => t.not_applied(RuleId::O1,
            "Metoden er ikke i Nye metoder: søk etter lokal prosedyre, og vurder å foreslå den til nasjonal vurdering."),
        NyeMetoder::UnderAssessment => {
            t.applied(RuleId::O1, citation::O1,
                "Metoden er til vurdering i Nye metoder: bruk unngås; søk om unntak for bruk i vurderingsperioden.");
            path.act(Action::new(ActionKind::NyeMetoder));
        }
        NyeMetoder::DecidedYes => t.applied(RuleId::O1, citation::O1,
            "Beslutningsforum har sagt ja: beslutningen følges."),
        NyeMetoder::DecidedNo => {
            t.applied(RuleId::O1, citation::O1, "Beslutningsforum har sagt nei.");
            path.block(BlockerCode::BeslutningsforumNo,
                "Beslutningsforum har besluttet at metoden ikke skal innføres: helseforetaket tilbyr den ikke.");
        }
    }

    o2_approvals(req, &mut path, t);
    t.applied(RuleId::O3, citation::O3,
        "Søknaden (vedlegg 1) skal ha dokumentasjonsvurdering, sikkerhet, usikkerhet, konsekvenser av ikke å behandle, \
         kostnadsanslag, informert samtykke og en behandlingsplan med evaluering og klare stoppkriterier.");
    t.applied(RuleId::O4, citation::O2,
        "Godkjent behandling føres i helseforetakets oversikt over kostnader til off-label-behandling og over pasienter \
         på utprøvende behandling utenfor studier.");
    t.applied(RuleId::O5, citation::O5, if req.drug.authorisation == Authorisation::Unauthorised {
        "Legemiddel på godkjenningsfritak: legen søker DMP; skriv e-resept uten refusjon (som hvit resept) med merknad om \
         at behandlende helseforetak (eller helseforetaket pasienten tilhører etter folkeregisteradressen) betaler, med \
         fakturaadresse. Ingen egenandel."
    } else {
        "Skriv e-resept uten refusjon (som hvit resept) med merknad om at behandlende helseforetak (eller helseforetaket \
         pasienten tilhører etter folkeregisteradressen) betaler, med fakturaadresse. Sykehusapotek anbefales. Ingen egenandel."
    });
    Ok(Some(path))
}

/// **O2** The approval chain (seeds/002 §5.1–5.3): the treating doctor applies, the clinic or
/// department head recommends, the medical director approves; the answer is recorded in the
/// patient's record with who approved. If another HF finances or continues the treatment (the
/// patient belongs to its area), that HF approves too, before start.
pub fn o2_approvals<'r>(req: &DecisionRequest, path: &mut Path, t: &mut Trace<'r>) {
    path.act(Action::new(ActionKind::HfApproval));
    let mut text = String::from(
        "Behandlende lege søker; klinikk-/avdelingsleder vurderer og anbefaler; fagdirektør godkjenner. \
         Svaret journalføres med hvem som godkjente.",
    );
    if req.patient.other_hf {
        path.act(Action::new(ActionKind::SecondHfApproval));
        text.push_str(
            " Pasienten tilhører et annet helseforetak: det må også godkjenne før oppstart.",
        );
    }
    t.applied(RuleId::O2, citation::O2, text);
}
