//! A dispensing at the pharmacy (pharmacy contract v1): the facts as the pharmacy records
//! them, the checks that refuse one, who pays for an accepted one and how much.
//!
//! Pure, like the rest of the crate: the edge looks the packages up in FEST, reads the
//! patient's year so far and the Helfo decisions from the store, and passes them in.

use domain::identity::PersonId;
use domain::{Date, Ore, PatientId, PrescriberRole, RefundCode};

use crate::charge::Charge;

/// The prescription's form as written (`prescription.form`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxForm {
    /// Blue prescription: the National Insurance refunds (§§ 2, 3, 4).
    Blue,
    /// H-prescription: the regional health authority pays.
    H,
    /// White prescription: the patient pays.
    White,
    /// White prescription with a trust's note: the named trust pays (O5).
    WhiteNote,
}

impl RxForm {
    /// Every form, with its contract code.
    pub const ALL: [(RxForm, &'static str); 4] = [
        (RxForm::Blue, "blue"),
        (RxForm::H, "h"),
        (RxForm::White, "white"),
        (RxForm::WhiteNote, "white_note"),
    ];

    /// From the contract code.
    pub fn from_code(code: &str) -> Option<RxForm> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(f, _)| *f)
    }

    /// The contract code.
    pub fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("blue", |(_, c)| c)
    }
}

/// DMP's four reasons a doctor may reserve a prescription against substitution (B7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Considerable problems with misuse or adherence.
    MisuseOrAdherence,
    /// Considerable difficulty handling different devices.
    DeviceHandling,
    /// Serious problems with excipients.
    Excipients,
    /// Marked side effects at an earlier switch.
    EarlierSwitchSideEffects,
}

impl Reservation {
    /// Every reason, with its contract code.
    pub const ALL: [(Reservation, &'static str); 4] = [
        (Reservation::MisuseOrAdherence, "misuse_or_adherence"),
        (Reservation::DeviceHandling, "device_handling"),
        (Reservation::Excipients, "excipients"),
        (
            Reservation::EarlierSwitchSideEffects,
            "earlier_switch_side_effects",
        ),
    ];

    /// From the contract code.
    pub fn from_code(code: &str) -> Option<Reservation> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(r, _)| *r)
    }
}

/// Who dispenses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pharmacy {
    /// The pharmacy's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The patient as the pharmacy knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PharmacyPatient {
    /// Which kind of number identifies them.
    pub id_kind: PatientId,
    /// The checked number, when there is one.
    pub id: Option<PersonId>,
    /// Birth date: decides the under-16 rule on the dispensing date.
    pub birth_date: Date,
    /// Municipality number (four digits) of the patient's address: names the trust (and RHF)
    /// that pays an H-prescription.
    pub municipality: Option<String>,
    /// Receives the minimum pension (minstepensjonist): no co-payment (§ 8).
    pub minimum_pensioner: bool,
    /// The prioritised patient group the patient belongs to, as a restriction in a shortage
    /// names it (E4), if any.
    pub priority_group: Option<String>,
}

impl PharmacyPatient {
    /// The key the patient's year is kept under: the number, or birth date and the
    /// prescription's id when there is none (such a patient's ceiling cannot be followed).
    pub fn key(&self, prescription_id: &str) -> String {
        match &self.id {
            Some(id) => id.as_str().to_string(),
            None => format!("uten-id:{}:{prescription_id}", self.birth_date),
        }
    }
}

/// The prescriber as the prescription names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prescriber {
    /// HPR number.
    pub hpr: String,
    /// Name.
    pub name: String,
    /// Role, as in decision contract v1.
    pub role: PrescriberRole,
}

/// The prescription presented.
#[derive(Clone, Debug, PartialEq)]
pub struct Prescription {
    /// The e-prescription's ReseptId.
    pub id: String,
    /// Its form.
    pub form: RxForm,
    /// Issued.
    pub issued: Date,
    /// Valid until (inclusive).
    pub valid_until: Date,
    /// Who wrote it.
    pub prescriber: Prescriber,
    /// Refund code (blue, H).
    pub refund_code: Option<RefundCode>,
    /// The trust the note names (white with note).
    pub paying_trust: Option<String>,
    /// The doctor's reservation against substitution.
    pub reservation: Option<Reservation>,
    /// Opioids: the prescribed daily dose in mg OMEQ.
    pub daily_dose_omeq: Option<f64>,
    /// Opioids: the prescribed daily dose of the substance (mg/day or µg/h), which the OMEQ
    /// table converts.
    pub daily_dose: Option<ruleset::Dose>,
    /// Prescribed for an approved occupational injury (yrkesskade): no co-payment (§ 8).
    pub occupational_injury: bool,
}

/// How the pharmacy holds the approval exemption for an unregistered product (G1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalExemption {
    /// The pharmacy assessed the doctor's justification and notified DMP («Apotek vurderer»).
    Notification {
        /// The notification's reference.
        reference: String,
    },
    /// DMP approved the doctor's application («Må søkes»).
    DmpApproval {
        /// DMP's reference.
        reference: String,
    },
}

/// What FEST says an unregistered product needs (`Preparattype` 11 and `TypeSoknadSlv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExemptionNeed {
    /// A marketed medicine: nothing.
    None,
    /// The pharmacy may assess and notify (`TypeSoknadSlv` 2).
    PharmacyAssesses,
    /// DMP must approve an application first (`TypeSoknadSlv` 3, or not stated).
    MustApply,
}

/// **G1** (legemiddelforskriften § 2-5): an unregistered product is dispensed only under an
/// approval exemption — a notification where FEST lets the pharmacy assess, DMP's approval
/// where FEST says it must be applied for (the negative list). A notification does not do where
/// an approval is needed.
pub fn check_exemption(need: ExemptionNeed, held: Option<&ApprovalExemption>) -> Option<Refusal> {
    match (need, held) {
        (ExemptionNeed::None, _) => None,
        (_, Some(ApprovalExemption::DmpApproval { .. }))
        | (ExemptionNeed::PharmacyAssesses, Some(ApprovalExemption::Notification { .. })) => None,
        (ExemptionNeed::MustApply, Some(ApprovalExemption::Notification { .. })) => Some(Refusal {
            code: "dmp_approval_required",
            message: "Preparatet må ha DMPs godkjenning før utlevering (FEST: «Må søkes»); en melding fra apoteket er ikke nok (legemiddelforskriften § 2-5).".into(),
            rule: "G1",
        }),
        (need, None) => Some(Refusal {
            code: "approval_exemption_missing",
            message: match need {
                ExemptionNeed::PharmacyAssesses => "Preparatet er uregistrert og krever godkjenningsfritak: apoteket vurderer legens begrunnelse og melder fra til DMP (approval_exemption.kind = notification) før utlevering (legemiddelforskriften § 2-5).".into(),
                _ => "Preparatet er uregistrert og krever godkjenningsfritak innvilget av DMP (approval_exemption.kind = dmp_approval) før utlevering (legemiddelforskriften § 2-5).".into(),
            },
            rule: "G1",
        }),
    }
}

/// **G3** When a product with MT has replaced the unregistered one, the unregistered product may
/// still be dispensed under a notification through the transition (up to 90 days, the market
/// day counting as day one), and after it only under DMP's approval (which DMP gives knowing the
/// marketed product, or in its shortage, G4). `replaced` is the marketed product and the
/// transition's last day. Returns a refusal, or a warning to show while the transition runs.
pub fn check_transition(
    need: ExemptionNeed,
    held: Option<&ApprovalExemption>,
    replaced: Option<(&str, Date)>,
    date: Date,
) -> (Option<Refusal>, Option<String>) {
    let (Some((marketed, last_day)), Some(ApprovalExemption::Notification { .. })) =
        (replaced, held)
    else {
        return (None, None);
    };
    if need == ExemptionNeed::None {
        return (None, None);
    }
    if date <= last_day {
        return (
            None,
            Some(format!(
                "{marketed} har markedsføringstillatelse og erstatter dette uregistrerte preparatet: det kan utleveres på melding til og med {last_day} (overgangsperiode, G3)."
            )),
        );
    }
    (
        Some(Refusal {
            code: "transition_ended",
            message: format!(
                "Overgangsperioden for dette uregistrerte preparatet sluttet {last_day}: {marketed} har markedsføringstillatelse. Utlevering krever nå DMPs godkjenning (approval_exemption.kind = dmp_approval), G3."
            ),
            rule: "G3",
        }),
        None,
    )
}

/// What the pharmacy offered and what the patient said (B7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Substitution {
    /// The package offered instead.
    pub offered_varenr: Option<String>,
    /// The patient refused it.
    pub patient_refused: bool,
}

/// A dispensing as recorded (`POST /api/v1/pharmacy/dispensings`).
#[derive(Clone, Debug, PartialEq)]
pub struct Dispensing {
    /// The pharmacy's own id: the idempotency key.
    pub id: String,
    /// The dispensing date.
    pub date: Date,
    /// Who.
    pub pharmacy: Pharmacy,
    /// To whom.
    pub patient: PharmacyPatient,
    /// On what.
    pub prescription: Prescription,
    /// The package prescribed (`drug.varenr`).
    pub varenr: String,
    /// Packages, in thousandths (multidose dispensings hand out parts of a package).
    pub milli_packages: u64,
    /// B7.
    pub substitution: Substitution,
    /// How many days the quantity handed out lasts at the prescribed dosage, as the pharmacy
    /// works it out: checked against the three months' supply of a blue prescription.
    pub supply_days: Option<u32>,
    /// The approval exemption the pharmacy holds, for an unregistered product (G1).
    pub approval_exemption: Option<ApprovalExemption>,
}

/// Why a dispensing is refused: a code, the words, the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Machine code.
    pub code: &'static str,
    /// Norwegian.
    pub message: String,
    /// The rule (domain id or paragraph).
    pub rule: &'static str,
}

/// The checks of the prescription itself, before any price (validity; the note a white
/// prescription needs; the date order; the quantity). Each failure is one refusal.
///
/// **Validity** (`GYLDIGHET`, domain.md § 8): a prescription is dispensed from the day it is
/// issued up to and including its last valid day; a blue prescription is valid on blue for
/// `blue_valid_months` from issue (one year), whatever its own end date says, and a dispensing
/// on it hands out at most `blue_max_supply_months` of use (three months).
pub fn check_prescription(d: &Dispensing, limits: &ruleset::DispensingLimits) -> Vec<Refusal> {
    let p = &d.prescription;
    let mut out = Vec::new();
    if d.date < p.issued {
        out.push(Refusal {
            code: "not_yet_issued",
            message: format!(
                "Resepten er skrevet {}, etter utleveringsdatoen {}.",
                p.issued, d.date
            ),
            rule: "GYLDIGHET",
        });
    }
    if d.date > p.valid_until {
        out.push(Refusal {
            code: "expired",
            message: format!("Resepten gjaldt til og med {}.", p.valid_until),
            rule: "GYLDIGHET",
        });
    }
    if p.form == RxForm::Blue
        && let Some(end) = p.issued.plus_months(limits.blue_valid_months)
        && d.date >= end
    {
        out.push(Refusal {
            code: "blue_older_than_a_year",
            message: format!(
                "En blå resept gjelder i {} måneder: denne er skrevet {} og kan ikke ekspederes på blå resept fra {end}.",
                limits.blue_valid_months, p.issued
            ),
            rule: "F6",
        });
    }
    if p.form == RxForm::Blue
        && let (Some(days), Some(end)) = (
            d.supply_days,
            d.date.plus_months(limits.blue_max_supply_months),
        )
        && i64::from(days) > end.days_since(d.date)
    {
        out.push(Refusal {
            code: "more_than_three_months",
            message: format!(
                "Utleveringen dekker {days} dager; på blå resept utleveres høyst {} måneders forbruk ({} dager fra {}).",
                limits.blue_max_supply_months,
                end.days_since(d.date),
                d.date
            ),
            rule: "GYLDIGHET",
        });
    }
    if p.form == RxForm::WhiteNote && p.paying_trust.as_deref().is_none_or(str::is_empty) {
        out.push(Refusal {
            code: "note_without_trust",
            message: "En hvit resept med merknad må navngi helseforetaket som betaler (prescription.paying_trust).".into(),
            rule: "O5",
        });
    }
    out
}

/// The price of `milli` thousandths of a package at `price` per package, rounded to the
/// nearest øre (half up). Whole packages are exact.
pub fn price_of(price: Ore, milli: u64) -> Ore {
    Ore((price.0 * milli + 500) / 1000)
}

/// Who pays a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Party {
    /// The National Insurance, through Helfo (§§ 2, 3, 4).
    Folketrygden,
    /// A regional health authority (H-prescription), for the patient's trust.
    Rhf {
        /// The trust the patient belongs to.
        trust: String,
        /// Its RHF.
        rhf: String,
    },
    /// A health trust (white prescription with its note; off-label, O5).
    Hf {
        /// The trust.
        trust: String,
    },
    /// The patient.
    Patient,
}

impl Party {
    /// The contract's payer code.
    pub fn code(&self) -> &'static str {
        match self {
            Party::Folketrygden => "folketrygden",
            Party::Rhf { .. } => "rhf",
            Party::Hf { .. } => "hf",
            Party::Patient => "patient",
        }
    }
}

/// One payer's share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Who.
    pub party: Party,
    /// How much.
    pub amount: Ore,
    /// Why, in Norwegian.
    pub basis: String,
}

/// The lines of an accepted dispensing: the patient's co-payment and difference, the payer's
/// rest. They add up to `charge`'s parts exactly; a zero line is left out, except that the
/// payer's line stays (a claim of 0 kr is still a settled fact) when there is a payer.
pub fn lines(payer: Option<Party>, charge: &Charge, basis: &str) -> Vec<Line> {
    let mut out = Vec::new();
    if let Some(party) = payer {
        out.push(Line {
            party,
            amount: charge.payer,
            basis: basis.to_string(),
        });
    } else if charge.payer.0 > 0 {
        // No public payer (a white prescription): the patient pays the whole price.
        out.push(Line {
            party: Party::Patient,
            amount: charge.payer,
            basis: "hvit resept: pasienten betaler hele prisen".into(),
        });
    }
    if charge.copayment.0 > 0 {
        out.push(Line {
            party: Party::Patient,
            amount: charge.copayment,
            basis: "egenandel (blåreseptforskriften § 8)".into(),
        });
    }
    if charge.difference.0 > 0 {
        out.push(Line {
            party: Party::Patient,
            amount: charge.difference,
            basis: "mellomlegg: pasienten avslo bytte uten reservasjon (B7); teller ikke mot egenandelstaket".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn blue(issued: &str, until: &str) -> Dispensing {
        Dispensing {
            id: "d1".into(),
            date: day("2026-06-01"),
            pharmacy: Pharmacy {
                id: "a1".into(),
                name: "Apotek 1 Storgata".into(),
            },
            patient: PharmacyPatient {
                id_kind: PatientId::None,
                id: None,
                birth_date: day("1960-01-01"),
                municipality: None,
                minimum_pensioner: false,
                priority_group: None,
            },
            prescription: Prescription {
                id: "r1".into(),
                form: RxForm::Blue,
                issued: day(issued),
                valid_until: day(until),
                prescriber: Prescriber {
                    hpr: "1234567".into(),
                    name: "Kari Lege".into(),
                    role: PrescriberRole::Gp,
                },
                refund_code: None,
                paying_trust: None,
                reservation: None,
                daily_dose_omeq: None,
                daily_dose: None,
                occupational_injury: false,
            },
            varenr: "108708".into(),
            milli_packages: 1000,
            substitution: Substitution::default(),
            supply_days: None,
            approval_exemption: None,
        }
    }

    fn limits() -> ruleset::DispensingLimits {
        let rules = ruleset::RuleSet::embedded().unwrap();
        rules
            .dispensing
            .at(day("2026-06-01"))
            .unwrap()
            .value
            .clone()
    }

    fn codes(d: &Dispensing) -> Vec<&'static str> {
        check_prescription(d, &limits())
            .iter()
            .map(|r| r.code)
            .collect()
    }

    #[test]
    fn a_prescription_is_dispensed_only_within_its_validity_and_a_blue_one_for_a_year() {
        assert!(codes(&blue("2026-01-10", "2027-01-10")).is_empty());
        assert_eq!(codes(&blue("2026-07-01", "2027-01-10")), ["not_yet_issued"]);
        assert_eq!(
            codes(&blue("2025-01-10", "2026-05-31")),
            ["expired", "blue_older_than_a_year"]
        );
        assert_eq!(
            codes(&blue("2025-06-01", "2027-01-01")),
            ["blue_older_than_a_year"]
        );
        assert!(
            codes(&blue("2025-06-02", "2027-01-01")).is_empty(),
            "the last day of the year"
        );
        let mut white = blue("2025-01-10", "2027-01-01");
        white.prescription.form = RxForm::White;
        assert!(
            codes(&white).is_empty(),
            "the one-year limit is the blue one's"
        );
        white.prescription.form = RxForm::WhiteNote;
        assert_eq!(codes(&white), ["note_without_trust"]);
    }

    #[test]
    fn a_blue_prescription_hands_out_at_most_three_months_at_a_time() {
        // 2026-06-01 plus three months is 2026-09-01: 92 days.
        let mut d = blue("2026-01-10", "2027-01-10");
        d.supply_days = Some(92);
        assert!(codes(&d).is_empty());
        d.supply_days = Some(93);
        assert_eq!(codes(&d), ["more_than_three_months"]);
        d.prescription.form = RxForm::White;
        assert!(codes(&d).is_empty(), "the limit is the blue prescription's");
    }

    #[test]
    fn g1_an_unregistered_product_needs_its_exemption_and_the_right_kind() {
        let note = ApprovalExemption::Notification {
            reference: "M-1".into(),
        };
        let approval = ApprovalExemption::DmpApproval {
            reference: "24/01234".into(),
        };
        let code = |need, held| check_exemption(need, held).map(|r| r.code);
        assert_eq!(code(ExemptionNeed::None, None), None);
        assert_eq!(
            code(ExemptionNeed::PharmacyAssesses, None),
            Some("approval_exemption_missing")
        );
        assert_eq!(code(ExemptionNeed::PharmacyAssesses, Some(&note)), None);
        assert_eq!(code(ExemptionNeed::PharmacyAssesses, Some(&approval)), None);
        assert_eq!(
            code(ExemptionNeed::MustApply, Some(&note)),
            Some("dmp_approval_required")
        );
        assert_eq!(code(ExemptionNeed::MustApply, Some(&approval)), None);
    }

    #[test]
    fn g3_a_notification_carries_through_the_transition_and_not_a_day_after() {
        let note = ApprovalExemption::Notification {
            reference: "M-1".into(),
        };
        let approval = ApprovalExemption::DmpApproval {
            reference: "26/00042".into(),
        };
        let last = Date::parse("2026-05-29").unwrap();
        let replaced = Some(("Melatonin MT 2 mg", last));
        let on = |d: &str| Date::parse(d).unwrap();
        let need = ExemptionNeed::PharmacyAssesses;
        let (refusal, warning) = check_transition(need, Some(&note), replaced, on("2026-05-29"));
        assert!(refusal.is_none());
        assert!(warning.unwrap().contains("til og med 2026-05-29"));
        let (refusal, _) = check_transition(need, Some(&note), replaced, on("2026-05-30"));
        assert_eq!(refusal.map(|r| r.code), Some("transition_ended"));
        // DMP's approval after the transition, or no replacement at all: nothing to say.
        assert_eq!(
            check_transition(need, Some(&approval), replaced, on("2026-06-30")),
            (None, None)
        );
        assert_eq!(
            check_transition(need, Some(&note), None, on("2026-06-30")),
            (None, None)
        );
    }

    #[test]
    fn parts_of_packages_are_priced_to_the_nearest_ore() {
        assert_eq!(price_of(Ore(31_240), 1000), Ore(31_240));
        assert_eq!(price_of(Ore(31_240), 3000), Ore(93_720));
        assert_eq!(price_of(Ore(31_241), 500), Ore(15_621));
        assert_eq!(price_of(Ore(100), 1), Ore(0));
    }

    #[test]
    fn the_lines_add_up_to_the_price() {
        let c = Charge {
            copayment: Ore(18_744),
            counts_toward_ceiling: Ore(18_744),
            difference: Ore(1_000),
            payer: Ore(12_496),
        };
        let l = lines(Some(Party::Folketrygden), &c, "§ 2");
        assert_eq!(l.iter().map(|l| l.amount.0).sum::<u64>(), 32_240);
        assert_eq!(l[0].party, Party::Folketrygden);
        let white = Charge {
            copayment: Ore(0),
            counts_toward_ceiling: Ore(0),
            difference: Ore(0),
            payer: Ore(31_240),
        };
        let l = lines(None, &white, "");
        assert_eq!(
            (l.len(), &l[0].party, l[0].amount),
            (1, &Party::Patient, Ore(31_240))
        );
    }
}
