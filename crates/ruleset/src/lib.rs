//! The rule data of `legemiddel`: every list, group and threshold the rules use, each with the
//! dates it is in force and the source it comes from.
//!
//! The law changes by date (a medicine joins the § 1b list on 1 November 2024; the co-payment
//! changes on 1 January 2026), so nothing that changes lives in Rust code. It lives in TOML files
//! under `rules/`, which this crate embeds at build time ([`RuleSet::embedded`]) and which an
//! operator can replace or extend without a rebuild ([`RuleSet::load`] with texts read from a
//! folder). Loading validates everything: unknown keys, malformed ATC codes, bad dates and
//! overlapping periods are errors naming the file and line.
//!
//! The crate does no I/O itself: callers hand it file texts.

pub mod dispensing;
pub mod exemption;
pub mod h_list_import;
mod raw;
pub mod register;
pub mod stockpiles;
mod summary;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use domain::{Atc, Date, Ore, Period, PrescriptionGroup, RefundCode, RuleId};
use serde::de::DeserializeOwned;

pub use dispensing::{DispensingLimits, Dose, OmeqTable, Route};
pub use raw::{CapPer, Criterion};
pub use register::{Rhf, Trust, TrustRegister};
pub use summary::RuleInForce;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Where a piece of rule data comes from: the file, the rule it serves and its legal source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Path of the data file, relative to the rules folder.
    pub file: String,
    /// The rule id (`shared/domain.md`).
    pub rule: RuleId,
    /// Norwegian title.
    pub title: String,
    /// The document the data is taken from.
    pub source: String,
    /// The legal basis, as cited in decisions (e.g. `blåreseptforskriften § 4`).
    pub basis: String,
    /// A remark by whoever maintains the data.
    pub note: Option<String>,
}

/// A value in force for a period, with its source.
#[derive(Clone, Debug)]
pub struct InForce<T> {
    /// When it is in force.
    pub period: Period,
    /// The value.
    pub value: T,
    /// Where it comes from.
    pub source: Arc<Source>,
}

/// A parameter that changes by date: non-overlapping periods, each with its value and source.
#[derive(Clone, Debug)]
pub struct Dated<T> {
    rule: RuleId,
    periods: Vec<InForce<T>>,
}

/// No rule data is in force for a rule on a date (e.g. before the earliest period modelled).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ingen regeldata for {rule} i kraft {date} (dataene dekker: {covered})")]
pub struct NotInForce {
    /// The rule asked for.
    pub rule: RuleId,
    /// The date asked for.
    pub date: Date,
    /// The periods that are covered, as text.
    pub covered: String,
}

impl<T> Dated<T> {
    /// The value in force on `date`.
    pub fn at(&self, date: Date) -> Result<&InForce<T>, NotInForce> {
        self.periods
            .iter()
            .find(|p| p.period.contains(date))
            .ok_or_else(|| NotInForce {
                rule: self.rule,
                date,
                covered: if self.periods.is_empty() {
                    "ingen perioder".into()
                } else {
                    self.periods
                        .iter()
                        .map(|p| p.period.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
    }

    /// Every period, in date order.
    pub fn periods(&self) -> &[InForce<T>] {
        &self.periods
    }
}

/// B2: the ATC groups of blåreseptforskriften § 4.
#[derive(Clone, Debug)]
pub struct Communicable {
    /// Anti-infectives (`J`), on blue prescription with the generally-dangerous-disease fact.
    pub anti_infectives: Vec<Atc>,
    /// Immunostimulants (`L03A`), likewise.
    pub immunostimulants: Vec<Atc>,
    /// Vaccines, immunoglobulins and immune sera (`J06`, `J07`): supplied through FHI.
    pub fhi_supplied: Vec<Atc>,
    /// Preventive vaccines (`J07`): not covered without the fact.
    pub preventive_vaccines: Vec<Atc>,
}

/// The general conditions of any blue prescription.
#[derive(Clone, Debug)]
pub struct GeneralConditions {
    /// Minimum months of use within one year for the long-term condition.
    pub long_term_min_months: u8,
}

/// B3: how long a § 3 decision is valid (`None`: no end date).
#[derive(Clone, Debug)]
pub struct DecisionLimits {
    /// Substances whose decisions are never limited (pregabalin).
    pub unlimited: Vec<Atc>,
    /// Limited groups, first match wins.
    pub limited: Vec<LimitedGroup>,
    /// Months for other medicines in prescription group A or B.
    pub group_ab_months: u16,
}

/// A group of § 3 decisions with a time limit: it matches by ATC group, refund code or
/// marketing status (any that is given).
#[derive(Clone, Debug)]
pub struct LimitedGroup {
    /// The group's name in bokmål.
    pub name: String,
    /// ATC groups.
    pub atc: Vec<Atc>,
    /// A refund code.
    pub refund_code: Option<RefundCode>,
    /// Whether it matches medicines not marketed in Norway.
    pub not_marketed: bool,
    /// When not empty, the ATC codes match only for these uses (refund codes) …
    pub only_for_codes: Vec<RefundCode>,
    /// … or these brands (a product named by its use: Wegovy is for obesity).
    pub only_for_brands: Vec<String>,
    /// How long a decision is valid.
    pub months: u16,
}

/// B4: who must apply to Helfo.
#[derive(Clone, Debug)]
pub struct ApplicantRules {
    /// Prescription groups that need a specialist or hospital doctor (A, B).
    pub specialist_prescription_groups: Vec<PrescriptionGroup>,
    /// ATC groups exempt from the group A/B rule (opioids, pregabalin).
    pub group_ab_exempt: Vec<Atc>,
    /// Brands only a public-hospital doctor may apply for (Wegovy, Saxenda).
    pub public_hospital_only: Vec<BrandRule>,
    /// Substance groups that need a specialist or hospital doctor (PCSK9, CGRP, botulinum toxin).
    pub specialist_groups: Vec<NamedGroup>,
}

/// A rule that applies to one brand of one substance.
#[derive(Clone, Debug)]
pub struct BrandRule {
    /// Trade name, as written.
    pub brand: String,
    /// Substance name.
    pub substance: String,
    /// The substance's ATC code.
    pub atc: Atc,
    /// The uses (refund codes) that make the substance this product whatever its brand: e.g.
    /// semaglutide for obesity (ICPC-2 T82) is Wegovy's use, under any name or none.
    pub use_codes: Vec<RefundCode>,
}

impl BrandRule {
    /// **B4** reading: the product is recognised by substance and use, not by an exact brand
    /// string — the ATC code must match, and then either the brand begins with the product's
    /// name as a word («Wegovy FlexTouch») or the use is one of the product's (semaglutide for
    /// obesity, with or without a brand; Ozempic for diabetes is not Wegovy).
    pub fn matches(&self, atc: &Atc, brand: Option<&str>, code: Option<&RefundCode>) -> bool {
        if *atc != self.atc {
            return false;
        }
        let named = brand.is_some_and(|b| starts_with_word(b, &self.brand));
        let used = code.is_some_and(|c| self.use_codes.contains(c));
        named || used
    }
}

/// Whether `text` begins with `word` (case-insensitive), followed by nothing or a non-letter.
pub fn starts_with_word(text: &str, word: &str) -> bool {
    let text = text.trim().to_lowercase();
    let word = word.trim().to_lowercase();
    text.strip_prefix(&word)
        .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

/// An ATC group with a name for people.
#[derive(Clone, Debug)]
pub struct NamedGroup {
    /// The group.
    pub atc: Atc,
    /// Norwegian name.
    pub name: String,
}

/// B5: opioids for pain.
#[derive(Clone, Debug)]
pub struct OpioidRules {
    /// The refund code -71 scope (N02A, N07BC02, R05DA04).
    pub scope: Vec<Atc>,
    /// Methadone (N07BC02): always needs a pain clinic, whatever the dose.
    pub methadone: Vec<Atc>,
    /// Highest total daily dose (mg OMEQ) a GP may apply for, inclusive.
    pub gp_max_omeq: u32,
    /// Highest total daily dose covered on blue prescription for non-cancer pain, inclusive.
    pub blue_max_omeq: u32,
}

/// B6: palliative care at the end of life.
#[derive(Clone, Debug)]
pub struct Palliative {
    /// The refund code (-90).
    pub refund_code: RefundCode,
    /// Opioid groups that go directly on blue prescription under it.
    pub opioids: Vec<Atc>,
}

/// Co-payment on blue prescriptions (blåreseptforskriften § 8). Money in øre.
#[derive(Clone, Debug)]
pub struct Copayment {
    /// Share of the price the patient pays, in percent.
    pub share_percent: u8,
    /// Cap.
    pub cap: Ore,
    /// What the cap applies to.
    pub cap_per: CapPer,
    /// Yearly ceiling (egenandelstak).
    pub yearly_ceiling: Ore,
    /// Figures not yet confirmed from the regulation.
    pub unconfirmed: Vec<String>,
    /// Patients younger than this pay no co-payment.
    pub no_copayment_under_age: u16,
}

/// G2: unregistered cannabis products.
#[derive(Clone, Debug)]
pub struct Cannabis {
    /// THC content (percent) strictly above which only a hospital specialist may apply.
    pub thc_percent_above: f64,
}

/// One entry of the § 1b list (F5), as published.
#[derive(Clone, Debug)]
pub struct ListEntry {
    /// Substance name(s), as in the list.
    pub substance: String,
    /// Lower-cased substance, for the case-insensitive comparison of F4.
    pub substance_folded: String,
    /// ATC code of the substance, or only its group where no code is final yet (F4).
    pub atc: Atc,
    /// Trade names the entry is limited to, lower-cased; empty means all brands (F4).
    pub brands_folded: Vec<String>,
    /// Trade names as written.
    pub brands: Vec<String>,
    /// The use (bruksområde), as in the list.
    pub usage: String,
    /// The § 1b annet ledd criteria cited, where the source names them (F2).
    pub criteria: Vec<Criterion>,
    /// When the entry is in force.
    pub period: Period,
    /// The F6 transition for blue prescriptions, if any.
    pub transition: Option<Transition>,
    /// The list file it comes from.
    pub source: Arc<Source>,
    /// A source of its own, where the entry has one.
    pub entry_source: Option<String>,
}

/// F6: blue prescriptions written before a date may still be used while valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Blue prescriptions issued before this date are honoured (registered as H).
    pub blue_issued_before: Date,
}

/// The § 1b list: every entry of every dated change, indexed by ATC code.
#[derive(Clone, Debug, Default)]
pub struct HList {
    /// Sorted by ATC code, so entries for a code and its groups are found by binary search.
    entries: Vec<ListEntry>,
    /// One bit per first letter of the entries' codes: most medicines are rejected at once.
    first_letters: u32,
    /// The effective dates of the list files, ascending, for the `rule_set` label.
    versions: Vec<Date>,
}

impl HList {
    /// Entries whose ATC code is `atc` or one of its groups, in force or not. The rule that
    /// decides whether one of them matches is F4, in the `decide` crate.
    pub fn candidates(&self, atc: &Atc) -> impl Iterator<Item = &ListEntry> {
        let possible = self.first_letters & letter_bit(atc) != 0;
        atc.groups()
            .take(if possible { usize::MAX } else { 0 })
            .flat_map(move |group| {
                let start = self.entries.partition_point(|e| e.atc < group);
                self.entries[start..]
                    .iter()
                    .take_while(move |e| e.atc == group)
            })
    }

    /// Every entry.
    pub fn entries(&self) -> &[ListEntry] {
        &self.entries
    }
}

/// All rule data, validated.
#[derive(Clone, Debug)]
pub struct RuleSet {
    name: String,
    version: String,
    sources: Vec<Arc<Source>>,
    labels: Vec<(Date, String)>,
    base_label: String,
    /// The § 1b list (F3–F6).
    pub h_list: HList,
    /// § 4 groups (B2).
    pub communicable: Dated<Communicable>,
    /// General conditions (long-term need).
    pub general: Dated<GeneralConditions>,
    /// Who must apply under § 3 (B4).
    pub applicant: Dated<ApplicantRules>,
    /// How long a § 3 decision is valid (B3).
    pub decision_limits: Dated<DecisionLimits>,
    /// Opioid limits (B5).
    pub opioids: Dated<OpioidRules>,
    /// Palliative code -90 (B6).
    pub palliative: Dated<Palliative>,
    /// Co-payment (§ 8).
    pub copayment: Dated<Copayment>,
    /// Cannabis products (G2).
    pub cannabis: Dated<Cannabis>,
    /// Validity and quantity at the pharmacy.
    pub dispensing: Dated<DispensingLimits>,
    /// The opioid conversion table.
    pub omeq: Dated<OmeqTable>,
    /// Health trusts and regional health authorities.
    pub trusts: Dated<TrustRegister>,
    /// How Helfo handles a § 3 application.
    pub case_handling: Dated<CaseHandling>,
    /// The emergency stockpiles (E1–E3).
    pub stockpiles: Dated<stockpiles::StockpileRules>,
    /// DMP's restrictions in a shortage (E4).
    pub rationing: Dated<Vec<stockpiles::Restriction>>,
    /// The approval exemption: its limits and DMP's negative list (G1).
    pub approval_exemption: Dated<exemption::ExemptionRules>,
    /// Products with MT replacing unregistered ones, and their transitions (G3).
    pub transitions: Dated<exemption::TransitionRules>,
}

/// `SAKSBEHANDLING`: how Helfo handles a § 3 application — the facts a paper application, a
/// request for more information and a refusal must state.
#[derive(Clone, Debug)]
pub struct CaseHandling {
    /// Helfo's postal address, one line each, for the paper application.
    pub helfo_address: Vec<String>,
    /// Days the applicant has to answer a request for more information (forvaltningsloven § 17).
    pub more_information_days: u32,
    /// Weeks to appeal a refusal (folketrygdloven § 21-12).
    pub appeal_weeks: u32,
    /// Parts the sources do not confirm.
    pub unconfirmed: Vec<String>,
}

/// Rule data that cannot be loaded: the file, the line where known, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file, relative to the rules folder.
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl RuleSet {
    /// The rule data embedded at build time (the files under `rules/`).
    pub fn embedded() -> Result<RuleSet, LoadError> {
        RuleSet::load(embedded::FILES.iter().copied())
    }

    /// The embedded files, as (path, text), e.g. to show or export them.
    pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
        embedded::FILES
    }

    /// Loads rule data from `(path, text)` pairs; paths are relative to the rules folder.
    /// `ruleset.toml` names the data set; every other file says in its `rule` key what it is.
    pub fn load<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RuleSet, LoadError> {
        let mut b = Builder::default();
        for (path, text) in files {
            b.file(path, text)?;
        }
        b.finish()
    }

    /// Name and version of the data set, e.g. `legemiddel-regler 2026.12.3`.
    pub fn version(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    /// The label a decision on `date` carries in `rule_set`: the data set's version and the
    /// § 1b list version in force.
    pub fn label(&self, date: Date) -> &str {
        let i = self.labels.partition_point(|(d, _)| *d <= date);
        if i == 0 {
            &self.base_label
        } else {
            &self.labels[i - 1].1
        }
    }

    /// Every loaded file's source, in path order.
    pub fn sources(&self) -> &[Arc<Source>] {
        &self.sources
    }
}

#[derive(Default)]
struct Builder {
    ruleset: Option<(String, String)>,
    sources: Vec<Arc<Source>>,
    h_list: Vec<(ListEntry, String, usize)>,
    versions: BTreeSet<Date>,
    communicable: Vec<(InForce<Communicable>, usize)>,
    general: Vec<(InForce<GeneralConditions>, usize)>,
    applicant: Vec<(InForce<ApplicantRules>, usize)>,
    decision_limits: Vec<(InForce<DecisionLimits>, usize)>,
    opioids: Vec<(InForce<OpioidRules>, usize)>,
    palliative: Vec<(InForce<Palliative>, usize)>,
    copayment: Vec<(InForce<Copayment>, usize)>,
    cannabis: Vec<(InForce<Cannabis>, usize)>,
    dispensing: Vec<(InForce<DispensingLimits>, usize)>,
    omeq: Vec<(InForce<OmeqTable>, usize)>,
    trusts: Vec<(InForce<TrustRegister>, usize)>,
    case_handling: Vec<(InForce<CaseHandling>, usize)>,
    stockpiles: Vec<(InForce<stockpiles::StockpileRules>, usize)>,
    rationing: Vec<(InForce<Vec<stockpiles::Restriction>>, usize)>,
    approval_exemption: Vec<(InForce<exemption::ExemptionRules>, usize)>,
    transitions: Vec<(InForce<exemption::TransitionRules>, usize)>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn toml_error(path: &str, text: &str, e: toml::de::Error) -> LoadError {
    LoadError {
        file: path.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    }
}

impl Builder {
    fn file(&mut self, path: &str, text: &str) -> Result<(), LoadError> {
        let err = |line, message: String| LoadError {
            file: path.to_string(),
            line,
            message,
        };
        if path == "ruleset.toml" || path.ends_with("/ruleset.toml") {
            let f: raw::RulesetFile =
                toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
            self.ruleset = Some((f.name, f.version));
            return Ok(());
        }
        let header: raw::Header = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
        let Some(rule) = header.rule else {
            return Err(err(
                Some(1),
                "mangler nøkkelen `rule` (regel-id, f.eks. \"B2\")".into(),
            ));
        };
        let rule = RuleId::from_code(&rule)
            .ok_or_else(|| err(None, format!("ukjent regel-id «{rule}»")))?;
        match rule {
            RuleId::F5 => self.list_file(path, text),
            RuleId::B2 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.communicable,
                |r: raw::RawCommunicable| {
                    Ok(Communicable {
                        anti_infectives: atcs(r.anti_infectives),
                        immunostimulants: atcs(r.immunostimulants),
                        fhi_supplied: atcs(r.fhi_supplied),
                        preventive_vaccines: atcs(r.preventive_vaccines),
                    })
                },
            ),
            RuleId::General => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.general,
                |r: raw::RawGeneral| {
                    if r.long_term_min_months > 12 {
                        return Err("long_term_min_months: ventet 0–12".into());
                    }
                    Ok(GeneralConditions {
                        long_term_min_months: r.long_term_min_months,
                    })
                },
            ),
            RuleId::B4 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.applicant,
                |r: raw::RawApplicant| {
                    Ok(ApplicantRules {
                        specialist_prescription_groups: r
                            .specialist_prescription_groups
                            .into_iter()
                            .map(|g| g.0)
                            .collect(),
                        group_ab_exempt: atcs(r.group_ab_exempt),
                        public_hospital_only: r
                            .public_hospital_only
                            .into_iter()
                            .map(|b| BrandRule {
                                brand: b.brand,
                                substance: b.substance,
                                atc: b.atc.0,
                                use_codes: b.use_codes.into_iter().map(|c| c.0).collect(),
                            })
                            .collect(),
                        specialist_groups: r
                            .specialist_groups
                            .into_iter()
                            .map(|g| NamedGroup {
                                atc: g.atc.0,
                                name: g.name,
                            })
                            .collect(),
                    })
                },
            ),
            RuleId::B3 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.decision_limits,
                |r: raw::RawDecisionLimits| {
                    let mut limited = Vec::with_capacity(r.limited.len());
                    for g in r.limited {
                        if g.atc.is_empty() && g.refund_code.is_none() && !g.not_marketed {
                            return Err(format!(
                                "limited «{}»: ventet minst én av atc, refund_code, not_marketed",
                                g.name
                            ));
                        }
                        if g.months == 0 {
                            return Err(format!("limited «{}»: months må være over 0", g.name));
                        }
                        if (!g.only_for_codes.is_empty() || !g.only_for_brands.is_empty())
                            && g.atc.is_empty()
                        {
                            return Err(format!(
                                "limited «{}»: only_for_codes/only_for_brands avgrenser atc, som mangler",
                                g.name
                            ));
                        }
                        limited.push(LimitedGroup {
                            name: g.name,
                            atc: atcs(g.atc),
                            only_for_codes: g.only_for_codes.into_iter().map(|c| c.0).collect(),
                            only_for_brands: g.only_for_brands,
                            refund_code: g.refund_code.map(|c| c.0),
                            not_marketed: g.not_marketed,
                            months: g.months,
                        });
                    }
                    Ok(DecisionLimits {
                        unlimited: atcs(r.unlimited),
                        limited,
                        group_ab_months: r.group_ab_months,
                    })
                },
            ),
            RuleId::B5 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.opioids,
                |r: raw::RawOpioids| {
                    if r.gp_max_omeq > r.blue_max_omeq {
                        return Err("gp_max_omeq kan ikke være større enn blue_max_omeq".into());
                    }
                    Ok(OpioidRules {
                        scope: atcs(r.scope),
                        methadone: atcs(r.methadone),
                        gp_max_omeq: r.gp_max_omeq,
                        blue_max_omeq: r.blue_max_omeq,
                    })
                },
            ),
            RuleId::B6 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.palliative,
                |r: raw::RawPalliative| {
                    Ok(Palliative {
                        refund_code: r.refund_code.0,
                        opioids: atcs(r.opioids),
                    })
                },
            ),
            RuleId::Copayment => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.copayment,
                |r: raw::RawCopayment| {
                    if r.share_percent > 100 {
                        return Err("share_percent: ventet 0–100".into());
                    }
                    Ok(Copayment {
                        share_percent: r.share_percent,
                        cap: Ore(r.cap_ore),
                        cap_per: r.cap_per,
                        yearly_ceiling: Ore(r.yearly_ceiling_ore),
                        unconfirmed: r.unconfirmed,
                        no_copayment_under_age: r.no_copayment_under_age,
                    })
                },
            ),
            RuleId::G2 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.cannabis,
                |r: raw::RawCannabis| {
                    if !(0.0..=100.0).contains(&r.thc_percent_above) {
                        return Err("thc_percent_above: ventet 0–100".into());
                    }
                    Ok(Cannabis {
                        thc_percent_above: r.thc_percent_above,
                    })
                },
            ),
            RuleId::Validity => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.dispensing,
                |r: raw::RawDispensingLimits| {
                    if !(1..=24).contains(&r.blue_valid_months) {
                        return Err("blue_valid_months: ventet 1–24".into());
                    }
                    if !(1..=12).contains(&r.blue_max_supply_months) {
                        return Err("blue_max_supply_months: ventet 1–12".into());
                    }
                    Ok(DispensingLimits {
                        blue_valid_months: r.blue_valid_months,
                        blue_max_supply_months: r.blue_max_supply_months,
                    })
                },
            ),
            RuleId::Omeq => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.omeq,
                dispensing::build_omeq,
            ),
            RuleId::Trusts => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.trusts,
                register::build,
            ),
            RuleId::CaseHandling => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.case_handling,
                |r: raw::RawCaseHandling| {
                    if r.helfo_address.len() < 2
                        || r.helfo_address.iter().any(|l| l.trim().is_empty())
                    {
                        return Err("helfo_address: ventet minst to ikke-tomme linjer (navn, postboks, postnummer og sted)".into());
                    }
                    if !(1..=90).contains(&r.more_information_days) {
                        return Err("more_information_days: ventet 1–90".into());
                    }
                    if !(1..=52).contains(&r.appeal_weeks) {
                        return Err("appeal_weeks: ventet 1–52".into());
                    }
                    Ok(CaseHandling {
                        helfo_address: r.helfo_address,
                        more_information_days: r.more_information_days,
                        appeal_weeks: r.appeal_weeks,
                        unconfirmed: r.unconfirmed,
                    })
                },
            ),
            RuleId::E1 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.stockpiles,
                stockpiles::build,
            ),
            RuleId::E4 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.rationing,
                stockpiles::build_rationing,
            ),
            RuleId::G1 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.approval_exemption,
                exemption::build,
            ),
            RuleId::G3 => periods(
                path,
                text,
                rule,
                &mut self.sources,
                &mut self.transitions,
                exemption::build_transitions,
            ),
            other => Err(err(
                None,
                format!(
                    "regel {other} har ingen regeldata-filer (kjente: F5, B2, B3, B4, B5, B6, G2, GEN, EGENANDEL, GYLDIGHET, OMEQ, HELSEFORETAK, SAKSBEHANDLING, E1, E4, G1, G3)"
                ),
            )),
        }
    }

    fn list_file(&mut self, path: &str, text: &str) -> Result<(), LoadError> {
        let err = |line, message: String| LoadError {
            file: path.to_string(),
            line: Some(line),
            message,
        };
        let f: raw::ListFile = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
        let source = Arc::new(Source {
            file: path.to_string(),
            rule: f.rule.0,
            title: f.title,
            source: f.source,
            basis: f.basis,
            note: f.note,
        });
        self.sources.push(source.clone());
        self.versions.insert(f.effective.0);
        if f.entry.is_empty() {
            return Err(err(1, "listen har ingen oppføringer ([[entry]])".into()));
        }
        for spanned in f.entry {
            let line = line_of(text, spanned.span().start);
            let e = spanned.into_inner();
            let period = Period {
                from: e.from.map_or(f.effective.0, |d| d.0),
                until: e.until.map(|d| d.0),
            };
            if period.until.is_some_and(|u| u <= period.from) {
                return Err(err(line, "until må være etter from".into()));
            }
            if e.substance.trim().is_empty() {
                return Err(err(line, "substance kan ikke være tom".into()));
            }
            let brands = e.brands.unwrap_or_default();
            if brands.iter().any(|b| b.trim().is_empty()) {
                return Err(err(line, "brands kan ikke inneholde tomme navn".into()));
            }
            if e.transition
                .as_ref()
                .is_some_and(|t| t.rule.0 != RuleId::F6)
            {
                return Err(err(line, "transition.rule må være \"F6\"".into()));
            }
            self.h_list.push((
                ListEntry {
                    substance_folded: e.substance.to_lowercase(),
                    substance: e.substance,
                    atc: e.atc.0,
                    brands_folded: brands.iter().map(|b| b.to_lowercase()).collect(),
                    brands,
                    usage: e.usage,
                    criteria: e.criteria,
                    period,
                    transition: e.transition.map(|t| Transition {
                        blue_issued_before: t.blue_issued_before.0,
                    }),
                    source: source.clone(),
                    entry_source: e.source,
                },
                path.to_string(),
                line,
            ));
        }
        Ok(())
    }

    fn finish(self) -> Result<RuleSet, LoadError> {
        let (name, version) = self.ruleset.ok_or_else(|| LoadError {
            file: "ruleset.toml".into(),
            line: None,
            message: "mangler: filen som navngir regeldatasettet (name, version)".into(),
        })?;

        // Two entries for the same medicine may not be in force on the same day: a later list
        // that changes an entry must end the earlier one (`until`).
        let mut entries = self.h_list;
        entries.sort_by(|a, b| {
            a.0.atc
                .cmp(&b.0.atc)
                .then(a.0.period.from.cmp(&b.0.period.from))
        });
        for (i, (a, _, _)) in entries.iter().enumerate() {
            for (b, file, line) in entries[i + 1..]
                .iter()
                .take_while(|(b, _, _)| b.atc == a.atc)
            {
                let same_medicine = a.substance_folded == b.substance_folded
                    && (a.brands_folded.is_empty()
                        || b.brands_folded.is_empty()
                        || a.brands_folded.iter().any(|x| b.brands_folded.contains(x)));
                if same_medicine && a.period.overlaps(&b.period) {
                    return Err(LoadError {
                        file: file.clone(),
                        line: Some(*line),
                        message: format!(
                            "{} ({}) er allerede på listen i {} ({}); perioder kan ikke overlappe",
                            b.substance, b.atc, a.source.file, a.period
                        ),
                    });
                }
            }
        }
        let versions: Vec<Date> = self.versions.into_iter().collect();
        let base_label = format!("{name} {version}");
        let labels = versions
            .iter()
            .map(|d| (*d, format!("{base_label}; § 1b-liste {d}")))
            .collect();
        let mut sources = self.sources;
        sources.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(RuleSet {
            h_list: HList {
                first_letters: entries
                    .iter()
                    .fold(0, |bits, (e, _, _)| bits | letter_bit(&e.atc)),
                entries: entries.into_iter().map(|(e, _, _)| e).collect(),
                versions,
            },
            communicable: dated(RuleId::B2, self.communicable)?,
            general: dated(RuleId::General, self.general)?,
            applicant: dated(RuleId::B4, self.applicant)?,
            decision_limits: dated(RuleId::B3, self.decision_limits)?,
            opioids: dated(RuleId::B5, self.opioids)?,
            palliative: dated(RuleId::B6, self.palliative)?,
            copayment: dated(RuleId::Copayment, self.copayment)?,
            cannabis: dated(RuleId::G2, self.cannabis)?,
            dispensing: dated(RuleId::Validity, self.dispensing)?,
            omeq: dated(RuleId::Omeq, self.omeq)?,
            trusts: dated(RuleId::Trusts, self.trusts)?,
            case_handling: dated(RuleId::CaseHandling, self.case_handling)?,
            stockpiles: dated(RuleId::E1, self.stockpiles)?,
            rationing: dated(RuleId::E4, self.rationing)?,
            approval_exemption: dated(RuleId::G1, self.approval_exemption)?,
            transitions: dated(RuleId::G3, self.transitions)?,
            name,
            version,
            sources,
            labels,
            base_label,
        })
    }
}

impl HList {
    /// The effective dates of the list changes loaded, ascending.
    pub fn versions(&self) -> &[Date] {
        &self.versions
    }
}

fn letter_bit(atc: &Atc) -> u32 {
    1 << (atc.as_str().as_bytes()[0] - b'A')
}

fn atcs(list: Vec<raw::TomlAtc>) -> Vec<Atc> {
    list.into_iter().map(|a| a.0).collect()
}

/// Parses a period file and converts each period's value with `convert`.
fn periods<R: DeserializeOwned, T>(
    path: &str,
    text: &str,
    rule: RuleId,
    sources: &mut Vec<Arc<Source>>,
    into: &mut Vec<(InForce<T>, usize)>,
    convert: impl Fn(R) -> Result<T, String>,
) -> Result<(), LoadError> {
    let f: raw::PeriodFile<R> = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
    let source = Arc::new(Source {
        file: path.to_string(),
        rule,
        title: f.title,
        source: f.source,
        basis: f.basis,
        note: f.note,
    });
    debug_assert_eq!(f.rule.0, rule);
    sources.push(source.clone());
    if f.period.is_empty() {
        return Err(LoadError {
            file: path.into(),
            line: None,
            message: "filen har ingen perioder ([[period]])".into(),
        });
    }
    for spanned in f.period {
        let line = line_of(text, spanned.span().start);
        let p = spanned.into_inner();
        let fail = |message: String| LoadError {
            file: path.to_string(),
            line: Some(line),
            message,
        };
        let period = Period {
            from: p.from,
            until: p.until,
        };
        if period.until.is_some_and(|u| u <= period.from) {
            return Err(fail("until må være etter from".into()));
        }
        let value = convert(p.value).map_err(fail)?;
        into.push((
            InForce {
                period,
                value,
                source: source.clone(),
            },
            line,
        ));
    }
    Ok(())
}

/// Orders the periods of one rule and rejects overlaps (naming the later period's file and line).
fn dated<T>(rule: RuleId, mut periods: Vec<(InForce<T>, usize)>) -> Result<Dated<T>, LoadError> {
    if periods.is_empty() {
        return Err(LoadError {
            file: "(regeldata)".into(),
            line: None,
            message: format!("ingen fil med regeldata for {rule}"),
        });
    }
    periods.sort_by_key(|(p, _)| p.period.from);
    for pair in periods.windows(2) {
        let ((a, _), (b, line)) = (&pair[0], &pair[1]);
        if a.period.overlaps(&b.period) {
            return Err(LoadError {
                file: b.source.file.clone(),
                line: Some(*line),
                message: format!(
                    "perioden {} for {rule} overlapper perioden {} i {}",
                    b.period, a.period, a.source.file
                ),
            });
        }
    }
    Ok(Dated {
        rule,
        periods: periods.into_iter().map(|(p, _)| p).collect(),
    })
}

#[cfg(test)]
mod tests;
