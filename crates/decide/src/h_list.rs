//! **F2–F5** — the § 1b annet ledd list: a listed medicine is the RHF's, for every use.

use domain::{
    BlockerCode, Date, DecisionRequest, Drug, Payer, PrescriberRole, Prescription, RuleId, Scheme,
};
use ruleset::{HList, ListEntry};

use crate::citation;
use crate::off_label;
use crate::outcome::{Path, Trace, text};

/// How a medicine stands against the § 1b list on a date.
#[derive(Debug, Clone, Copy)]
pub enum ListMatch<'r> {
    /// Covered by an entry in force.
    Listed(&'r ListEntry),
    /// Not listed; the closest entry and why it does not cover the medicine, if one came close.
    NotListed(Option<(&'r ListEntry, Miss)>),
}

/// Why a list entry with a matching ATC code does not cover a medicine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// A brand-only entry, and the prescription names another brand or none.
    OtherBrand,
    /// A group-level entry, and the substance is another one.
    OtherSubstance,
    /// The entry is not yet in force on the date.
    NotYet,
    /// The entry has ended.
    Ended,
}

/// **F4** How a list entry matches (seeds/000): "Legemidlene i tabell 1 blir definert som
/// virkestoff med tilhørende ATC-kode med unntak av Hydrocortisone Aguettant … og Arikayce … som
/// defineres med handelsnavn i tillegg."
///
/// - An entry with a substance-level (7-character) code matches a medicine with that code.
/// - An entry with trade names matches only those names (case-insensitive); a prescription
///   without a brand, or with another, is not covered: other amikacin is not Arikayce.
/// - An entry with only a group code (`L01`, `L01EM`: no final code yet) matches the named
///   substance within the group, and never the rest of the group.
/// - The entry must be in force on the date (from inclusive, until exclusive).
pub fn f4_match<'r>(drug: &Drug, list: &'r HList, date: Date) -> ListMatch<'r> {
    let mut closest = None;
    for entry in list.candidates(&drug.atc) {
        let miss = if !entry.brands_folded.is_empty()
            && !drug.brand.as_deref().is_some_and(|b| names_equal(b, entry))
        {
            Some(Miss::OtherBrand)
        } else if !entry.atc.is_substance() && !folded_eq(&drug.substance, &entry.substance_folded)
        {
            Some(Miss::OtherSubstance)
        } else if date < entry.period.from {
            Some(Miss::NotYet)
        } else if !entry.period.contains(date) {
            Some(Miss::Ended)
        } else {
            None
        };
        match miss {
            None => return ListMatch::Listed(entry),
            Some(m) => closest = closest.or(Some((entry, m))),
        }
    }
    ListMatch::NotListed(closest)
}

fn names_equal(brand: &str, entry: &ListEntry) -> bool {
    entry.brands_folded.iter().any(|b| folded_eq(brand, b))
}

/// Case-insensitive equality against an already lower-cased text, without allocating.
fn folded_eq(text: &str, folded: &str) -> bool {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(folded.chars())
}

/// **F3** Listed ⇒ no National Insurance cover, for any use (seeds/000): "Fra 1. november 2024
/// vil det ikke være mulig å få innvilget stønad over folketrygden for legemidlene i tabell 1.
/// Dette gjelder all bruk (også utenom angitt bruksområde)." The RHF pays, on H-prescription;
/// this overrides §§ 2, 3 and 4.
///
/// Used off-label and started in specialist care, a listed medicine stays `h_list` and gains the
/// approval chain of O2 and the H-prescription of O5.1 (domain.md O5).
pub fn f3<'r>(
    req: &DecisionRequest,
    rules: &'r ruleset::RuleSet,
    t: &mut Trace<'r>,
) -> Option<Path> {
    let entry = match f4_match(&req.drug, &rules.h_list, req.date) {
        ListMatch::Listed(entry) => entry,
        ListMatch::NotListed(closest) => {
            let (rule, text) = not_listed(&req.drug, closest);
            t.not_applied(rule, text);
            return None;
        }
    };
    let source = &entry.source;
    t.applied(RuleId::F4, &source.basis, match_text(entry));
    t.applied(
        RuleId::F5,
        &source.basis,
        format!(
            "Oppført i «{}» fra {} for bruksområdet: {}.",
            source.title, entry.period.from, entry.usage
        ),
    );
    t.applied(RuleId::F2, &source.basis, criteria_text(entry));
    let mut text = String::from(
        "Folketrygden yter ikke stønad til legemidlet, for noen bruk (også utenfor angitt bruksområde): \
         RHF-ene har finansieringsansvaret, og det forskrives på H-resept.",
    );
    if req.usage.generally_dangerous_infection || req.usage.mrsa || req.usage.refund_listed {
        text.push_str(" Listen går foran §§ 2, 3 og 4.");
    }
    t.applied(RuleId::F3, &source.basis, text);

    let mut path = Path::new(Scheme::HList, Payer::Rhf, Prescription::H);
    t.cite(citation::H_PRESCRIPTION);
    if matches!(
        req.prescriber,
        PrescriberRole::Gp | PrescriberRole::PainClinic
    ) {
        path.block(
            BlockerCode::PrescriberNotQualified,
            "Bare sykehusleger og enkelte avtalespesialister kan forskrive H-resept; fastleger og smerteklinikker kan ikke.",
        );
    }
    if off_label::is_off_label_in_specialist_care(req) {
        t.applied(RuleId::O5, citation::O5,
            "H-reseptlegemiddel brukt utenfor godkjent indikasjon: skriv H-resept med refusjonskode for aktuell diagnose; \
             kostnaden belastes helseforetakets ramme (ingen ISF-inntekt).");
        off_label::o2_approvals(req, &mut path, t);
    }
    Some(path)
}

fn match_text(entry: &ListEntry) -> String {
    if !entry.brands.is_empty() {
        format!(
            "{} ({}) står på § 1b-listen bare med handelsnavnet {}, og forskrivningen gjelder dette handelsnavnet.",
            entry.substance,
            entry.atc,
            entry.brands.join(" / ")
        )
    } else if !entry.atc.is_substance() {
        format!(
            "{} står på § 1b-listen med gruppekoden {} (ingen endelig ATC-kode ennå); oppføringen gjelder bare dette virkestoffet.",
            entry.substance, entry.atc
        )
    } else {
        format!(
            "{} ({}) står på § 1b-listen, for alle handelsnavn.",
            entry.substance, entry.atc
        )
    }
}

/// Why a medicine is not on the list, naming the entry that came closest: F4 when the entry
/// does not cover this brand or substance, F5 when the entry is not in force on the date.
pub fn not_listed(drug: &Drug, closest: Option<(&ListEntry, Miss)>) -> (RuleId, String) {
    let rule = match closest {
        Some((_, Miss::NotYet | Miss::Ended)) => RuleId::F5,
        _ => RuleId::F4,
    };
    let text = match closest {
        None => text!(
            drug.substance.trim(),
            " (",
            drug.atc.as_str(),
            ") står ikke på § 1b-listen."
        )
        .into_owned(),
        Some((e, Miss::OtherBrand)) => format!(
            "{} står på § 1b-listen bare med handelsnavnet {}; andre handelsnavn{} omfattes ikke.",
            e.atc,
            e.brands.join(" / "),
            drug.brand
                .as_deref()
                .map(|b| format!(" (her: {})", b.trim()))
                .unwrap_or_default()
        ),
        Some((e, Miss::OtherSubstance)) => format!(
            "Gruppekoden {} på § 1b-listen gjelder bare {}, ikke {}; resten av gruppen omfattes ikke.",
            e.atc,
            e.substance,
            drug.substance.trim()
        ),
        Some((e, Miss::NotYet)) => format!(
            "{} ({}) kommer på § 1b-listen først {}; på forskrivningsdatoen gjelder de vanlige reglene.",
            e.substance, e.atc, e.period.from
        ),
        Some((e, Miss::Ended)) => format!(
            "{} ({}) stod på § 1b-listen i perioden {}; oppføringen gjelder ikke lenger.",
            e.substance, e.atc, e.period
        ),
    };
    (rule, text)
}

fn criteria_text(entry: &ListEntry) -> String {
    if entry.criteria.is_empty() {
        "Helsedirektoratet har besluttet at legemidlet oppfyller minst ett av kriteriene i § 1b annet ledd \
         bokstav a–c (kilden sier ikke hvilke)."
            .into()
    } else {
        let letters: Vec<&str> = entry
            .criteria
            .iter()
            .map(|c| match c {
                ruleset::Criterion::A => "a (spesialiststyrt behandling)",
                ruleset::Criterion::B => "b (overvåkning/beredskap)",
                ruleset::Criterion::C => "c (spesialistutstyr)",
            })
            .collect();
        format!(
            "Helsedirektoratet har besluttet at kriteriene i § 1b annet ledd bokstav {} er oppfylt.",
            letters.join(", ")
        )
    }
}
