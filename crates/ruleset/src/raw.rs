//! The TOML shapes of the rule files, before validation. Every struct rejects unknown keys, so a
//! misspelt key is an error naming file and line, never silently ignored.

use domain::{Atc, Date, PrescriptionGroup, RefundCode, RuleId};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// The header every rule file starts with.
#[derive(Deserialize)]
pub struct Header {
    pub rule: Option<String>,
}

/// A rule file with dated periods of one kind of value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "T: DeserializeOwned")]
pub struct PeriodFile<T> {
    pub rule: TomlRuleId,
    pub title: String,
    pub source: String,
    pub basis: String,
    #[serde(default)]
    pub note: Option<String>,
    pub period: Vec<toml::Spanned<RawPeriod<T>>>,
}

/// A § 1b list file: one dated change with its entries.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFile {
    pub rule: TomlRuleId,
    pub title: String,
    pub source: String,
    pub basis: String,
    pub effective: TomlDate,
    #[serde(default)]
    pub note: Option<String>,
    pub entry: Vec<toml::Spanned<RawListEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListEntry {
    pub substance: String,
    pub atc: TomlAtc,
    #[serde(default)]
    pub brands: Option<Vec<String>>,
    #[serde(rename = "use")]
    pub usage: String,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    #[serde(default)]
    pub from: Option<TomlDate>,
    #[serde(default)]
    pub until: Option<TomlDate>,
    #[serde(default)]
    pub transition: Option<RawTransition>,
    #[serde(default)]
    pub source: Option<String>,
}

/// The § 1b annet ledd criteria a listing cites (F2).
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// a) initiation, evaluation and ending steered by a specialist-care doctor.
    A,
    /// b) physical monitoring or readiness of the specialist service.
    B,
    /// c) equipment essentially only the specialist service has.
    C,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransition {
    pub rule: TomlRuleId,
    pub blue_issued_before: TomlDate,
}

/// `ruleset.toml`: the name and version of the data set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesetFile {
    pub name: String,
    pub version: String,
}

/// One dated period: `from` (inclusive), optional `until` (exclusive), and the value's own keys.
pub struct RawPeriod<T> {
    pub from: Date,
    pub until: Option<Date>,
    pub value: T,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for RawPeriod<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `from`/`until` are taken out and the rest must be exactly the value's keys. (serde's
        // `flatten` would lose `deny_unknown_fields`, which is the point of the exercise.)
        let mut table = toml::Table::deserialize(d)?;
        let date = |key: &str, value: toml::Value| {
            TomlDate::deserialize(value)
                .map(|d| d.0)
                .map_err(|e| D::Error::custom(format!("{key}: {}", e.message())))
        };
        let from = table
            .remove("from")
            .ok_or_else(|| D::Error::missing_field("from"))?;
        let from = date("from", from)?;
        let until = table
            .remove("until")
            .map(|v| date("until", v))
            .transpose()?;
        let value =
            T::deserialize(toml::Value::Table(table)).map_err(|e| D::Error::custom(e.message()))?;
        Ok(RawPeriod { from, until, value })
    }
}

/// A TOML date (`2024-11-01`, unquoted), with no time or offset.
pub struct TomlDate(pub Date);

impl<'de> Deserialize<'de> for TomlDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expected = "ventet en dato uten klokkeslett, f.eks. 2024-11-01 (uten anførselstegn)";
        let dt = toml::value::Datetime::deserialize(d).map_err(|_| D::Error::custom(expected))?;
        match (dt.date, dt.time, dt.offset) {
            (Some(day), None, None) => Date::from_ymd(
                i32::from(day.year),
                u32::from(day.month),
                u32::from(day.day),
            )
            .map(TomlDate)
            .ok_or_else(|| D::Error::custom(expected)),
            _ => Err(D::Error::custom(expected)),
        }
    }
}

/// A valid ATC code written as a string.
pub struct TomlAtc(pub Atc);

impl<'de> Deserialize<'de> for TomlAtc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Atc::parse(&text).map(TomlAtc).map_err(D::Error::custom)
    }
}

/// A rule id as in `shared/domain.md`.
pub struct TomlRuleId(pub RuleId);

impl<'de> Deserialize<'de> for TomlRuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        RuleId::from_code(&text)
            .map(TomlRuleId)
            .ok_or_else(|| D::Error::custom(format!("ukjent regel-id «{text}»")))
    }
}

/// A prescription group code (Volven 7421).
pub struct TomlGroup(pub PrescriptionGroup);

impl<'de> Deserialize<'de> for TomlGroup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PrescriptionGroup::from_code(&text)
            .map(TomlGroup)
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "ukjent reseptgruppe «{text}»; ventet A, B, C, CF, F eller K"
                ))
            })
    }
}

/// A refund code.
pub struct TomlRefundCode(pub RefundCode);

impl<'de> Deserialize<'de> for TomlRefundCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        RefundCode::parse(&text)
            .map(TomlRefundCode)
            .map_err(D::Error::custom)
    }
}

// The value of each kind of period file.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommunicable {
    pub anti_infectives: Vec<TomlAtc>,
    pub immunostimulants: Vec<TomlAtc>,
    pub fhi_supplied: Vec<TomlAtc>,
    pub preventive_vaccines: Vec<TomlAtc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGeneral {
    pub long_term_min_months: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplicant {
    pub specialist_prescription_groups: Vec<TomlGroup>,
    pub group_ab_exempt: Vec<TomlAtc>,
    pub public_hospital_only: Vec<RawBrandRule>,
    pub specialist_groups: Vec<RawNamedGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBrandRule {
    pub brand: String,
    pub substance: String,
    pub atc: TomlAtc,
    #[serde(default)]
    pub use_codes: Vec<TomlRefundCode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNamedGroup {
    pub atc: TomlAtc,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpioids {
    pub scope: Vec<TomlAtc>,
    pub methadone: Vec<TomlAtc>,
    pub gp_max_omeq: u32,
    pub blue_max_omeq: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPalliative {
    pub refund_code: TomlRefundCode,
    pub opioids: Vec<TomlAtc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCopayment {
    pub share_percent: u8,
    pub cap_ore: u64,
    pub cap_per: CapPer,
    pub yearly_ceiling_ore: u64,
    #[serde(default)]
    pub unconfirmed: Vec<String>,
    pub no_copayment_under_age: u16,
}

/// What the co-payment cap applies to.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CapPer {
    /// Per prescription (up to 2025; same doctor, same day counts as one).
    Prescription,
    /// Per dispensing (from 2026).
    Dispensing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCannabis {
    pub thc_percent_above: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecisionLimits {
    pub unlimited: Vec<TomlAtc>,
    pub group_ab_months: u16,
    pub limited: Vec<RawLimited>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimited {
    pub name: String,
    #[serde(default)]
    pub atc: Vec<TomlAtc>,
    #[serde(default)]
    pub only_for_codes: Vec<TomlRefundCode>,
    #[serde(default)]
    pub only_for_brands: Vec<String>,
    #[serde(default)]
    pub refund_code: Option<TomlRefundCode>,
    #[serde(default)]
    pub not_marketed: bool,
    pub months: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOmeq {
    #[serde(default)]
    pub unconfirmed: Vec<String>,
    pub excluded_routes: Vec<crate::dispensing::Route>,
    pub form: Vec<RawFormRoute>,
    pub factor: Vec<RawFactor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormRoute {
    pub contains: Vec<String>,
    pub route: crate::dispensing::Route,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFactor {
    pub substance: String,
    pub atc: Vec<TomlAtc>,
    pub route: crate::dispensing::Route,
    #[serde(default)]
    pub mg_per_day: Option<f64>,
    #[serde(default)]
    pub tiers: Vec<RawTier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    pub omeq_from: f64,
    pub factor: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDispensingLimits {
    pub blue_valid_months: u32,
    pub blue_max_supply_months: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCaseHandling {
    pub helfo_address: Vec<String>,
    pub more_information_days: u32,
    pub appeal_weeks: u32,
    #[serde(default)]
    pub unconfirmed: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrusts {
    #[serde(default)]
    pub unconfirmed: Vec<String>,
    pub rhf: Vec<RawRhf>,
    pub trust: Vec<RawTrust>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRhf {
    pub id: String,
    pub name: String,
    pub org_nr: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrust {
    pub id: String,
    pub name: String,
    pub rhf: String,
    pub org_nr: String,
    #[serde(default)]
    pub invoice_address: Option<String>,
    pub municipalities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStockpiles {
    pub ordinary_days: u32,
    pub rationing_below_days: u32,
    pub expiry_window_days: u32,
    pub specialist_wholesaler: String,
    #[serde(default)]
    pub unconfirmed: Vec<String>,
    pub wholesaler: Vec<RawWholesaler>,
    #[serde(default)]
    pub primary: Vec<RawPrimaryGroup>,
    #[serde(default)]
    pub specialist: Vec<RawSpecialistGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWholesaler {
    pub id: String,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrimaryGroup {
    pub name: String,
    pub atc: Vec<TomlAtc>,
    pub months: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpecialistGroup {
    pub name: String,
    pub atc: Vec<TomlAtc>,
    pub days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRationing {
    #[serde(default)]
    pub restriction: Vec<RawRestriction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRestriction {
    pub id: String,
    pub title: String,
    pub atc: Vec<TomlAtc>,
    pub from: TomlDate,
    #[serde(default)]
    pub until: Option<TomlDate>,
    #[serde(default)]
    pub max_packages: Option<u32>,
    #[serde(default)]
    pub priority_groups: Vec<String>,
    #[serde(default)]
    pub only_priority_groups: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApprovalExemption {
    pub max_period_days: u32,
    pub dmp_handling_working_days: u32,
    #[serde(default)]
    pub unconfirmed: Vec<String>,
    #[serde(default)]
    pub negative_group: Vec<RawNegativeGroup>,
    #[serde(default)]
    pub negative_substance: Vec<RawNegativeSubstance>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNegativeGroup {
    pub atc: TomlAtc,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNegativeSubstance {
    pub substance: String,
    #[serde(default)]
    pub atc: Option<TomlAtc>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransitionRules {
    pub max_transition_days: u32,
    #[serde(default)]
    pub replacement: Vec<RawReplacement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplacement {
    pub marketed: String,
    pub atc: TomlAtc,
    pub marketed_from: TomlDate,
    pub transition_days: u32,
    pub source: String,
}
