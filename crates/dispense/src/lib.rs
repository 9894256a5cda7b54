//! The pharmacy side of `legemiddel`: what happens when a prescription is presented.
//!
//! Whether a prescription is accepted and what it is registered as, which is where the F6
//! transition of the § 1b list lives ([`dispense`]); and what the patient pays and the payer
//! is billed ([`charge`]: the § 8 co-payment, its cap and yearly ceiling, and the B7 price
//! difference). Settlement with the right payer will live here too. Like `decide`, this crate is pure: the
//! dispensing date is input, and the rule data is passed in.

pub mod charge;
pub mod pharmacy;

use decide::h_list::{ListMatch, f4_match, not_listed};
use decide::{Blocker, DecideError, Step, Trace};
use domain::{BlockerCode, DispensingRequest, Payer, RuleId, WrittenForm};
use ruleset::RuleSet;

/// The answer to a dispensing request (contract `dispense`).
#[derive(Clone, Debug, PartialEq)]
pub struct DispensingDecision<'r> {
    /// Whether the pharmacy may dispense on this prescription.
    pub accepted: bool,
    /// What it is registered as; `None` when not accepted.
    pub register_as: Option<WrittenForm>,
    /// Who pays; `None` when not accepted.
    pub payer: Option<Payer>,
    /// Why it is not accepted.
    pub blockers: Vec<Blocker>,
    /// The rule data used.
    pub rule_set: &'r str,
    /// The legal sources applied.
    pub citations: Vec<&'r str>,
    /// Every rule tried, in order.
    pub explanation: Vec<Step>,
}

/// Legal source of a prescription's validity period.
const VALIDITY: &str =
    "forskrift om rekvirering og utlevering av legemidler fra apotek (reseptens gyldighet)";

/// Accepts or refuses a prescription at the pharmacy and says what to register it as.
///
/// **Validity**: a prescription can be dispensed up to and including its last valid day.
///
/// **F6** Transition (seeds/000): "pasientene som bruker disse tre nevnte legemidlene, kan
/// benytte blåresepter skrevet ut før 1. november 2024 så lenge de er gyldige. Apotekene
/// registrerer disse som h-resept fra 1. november." A blue prescription for a listed medicine
/// with a transition, issued before the listing date and still valid, is accepted and
/// registered as H (the RHF pays). One issued on or after that date, or for an entry without a
/// transition, gets no cover (**F3**).
///
/// A valid prescription for a medicine not on the list on the dispensing date is registered as
/// written. Reading: a white prescription for a listed medicine is accepted as white (the
/// patient pays); nothing forbids buying a listed medicine oneself.
pub fn dispense<'r>(
    req: &DispensingRequest,
    rules: &'r RuleSet,
) -> Result<DispensingDecision<'r>, DecideError> {
    let p = &req.prescription;
    if p.valid_until < p.issued {
        return Err(DecideError::Input {
            field: "prescription.valid_until",
            message: format!(
                "siste gyldighetsdag {} er før utstedelsesdatoen {}",
                p.valid_until, p.issued
            ),
        });
    }
    if p.issued > req.date {
        return Err(DecideError::Input {
            field: "prescription.issued",
            message: format!(
                "resepten er utstedt {} , etter utleveringsdatoen {}",
                p.issued, req.date
            ),
        });
    }
    let mut t = Trace::new();
    let refuse = |t: Trace<'r>, code, message: String| {
        let (explanation, citations) = t.into_parts();
        DispensingDecision {
            accepted: false,
            register_as: None,
            payer: None,
            blockers: vec![Blocker {
                code,
                message: message.into(),
            }],
            rule_set: rules.label(req.date),
            citations,
            explanation,
        }
    };

    if req.date > p.valid_until {
        t.applied(
            RuleId::Validity,
            VALIDITY,
            format!("Resepten var gyldig til og med {}.", p.valid_until),
        );
        return Ok(refuse(
            t,
            BlockerCode::PrescriptionExpired,
            format!(
                "Resepten er utløpt: siste gyldighetsdag var {}.",
                p.valid_until
            ),
        ));
    }
    t.not_applied(
        RuleId::Validity,
        format!("Resepten er gyldig til og med {}.", p.valid_until),
    );
    t.cite(VALIDITY);

    let (register_as, payer) = match f4_match(&req.drug, &rules.h_list, req.date) {
        ListMatch::NotListed(closest) => {
            let (rule, text) = not_listed(&req.drug, closest);
            t.not_applied(rule, text);
            t.not_applied(RuleId::F3, "Legemidlet står ikke på § 1b-listen på utleveringsdatoen: registreres slik resepten er skrevet.");
            (p.form, written_payer(p.form))
        }
        ListMatch::Listed(entry) => {
            let basis = &entry.source.basis;
            match p.form {
                WrittenForm::H => {
                    t.applied(
                        RuleId::F3,
                        basis,
                        "Legemidlet står på § 1b-listen, og resepten er en H-resept: RHF betaler.",
                    );
                    (WrittenForm::H, Payer::Rhf)
                }
                WrittenForm::White => {
                    t.applied(RuleId::F3, basis,
                        "Legemidlet står på § 1b-listen, men resepten er hvit: pasienten betaler selv (ingen stønad fra folketrygden).");
                    (WrittenForm::White, Payer::Patient)
                }
                WrittenForm::Blue => match entry.transition {
                    Some(tr) if p.issued < tr.blue_issued_before => {
                        t.applied(RuleId::F6, basis, format!(
                            "Overgangsordning: blå resept for {} utstedt {} (før {}) kan brukes så lenge den er gyldig; \
                             apoteket registrerer den som H-resept, og RHF betaler.",
                            entry.substance, p.issued, tr.blue_issued_before
                        ));
                        (WrittenForm::H, Payer::Rhf)
                    }
                    Some(tr) => {
                        t.applied(RuleId::F6, basis, format!(
                            "Overgangsordningen gjelder bare blå resepter utstedt før {}; denne er utstedt {}.",
                            tr.blue_issued_before, p.issued
                        ));
                        return Ok(refuse(
                            t,
                            BlockerCode::ListedNoCover,
                            format!(
                                "{} står på § 1b-listen: en blå resept utstedt {} gir ingen stønad. Forskriveren må skrive H-resept.",
                                entry.substance, p.issued
                            ),
                        ));
                    }
                    None => {
                        t.applied(RuleId::F3, basis, format!(
                            "{} står på § 1b-listen fra {} uten overgangsordning: ingen stønad fra folketrygden.",
                            entry.substance, entry.period.from
                        ));
                        return Ok(refuse(
                            t,
                            BlockerCode::ListedNoCover,
                            format!(
                                "{} står på § 1b-listen uten overgangsordning: en blå resept gir ingen stønad. Forskriveren må skrive H-resept.",
                                entry.substance
                            ),
                        ));
                    }
                },
            }
        }
    };
    let (explanation, citations) = t.into_parts();
    Ok(DispensingDecision {
        accepted: true,
        register_as: Some(register_as),
        payer: Some(payer),
        blockers: Vec::new(),
        rule_set: rules.label(req.date),
        citations,
        explanation,
    })
}

/// Who pays for a prescription registered as written.
fn written_payer(form: WrittenForm) -> Payer {
    match form {
        WrittenForm::Blue => Payer::Folketrygden,
        WrittenForm::H => Payer::Rhf,
        WrittenForm::White => Payer::Patient,
    }
}
