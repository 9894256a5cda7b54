//! **Part 5** — the yearly statistics of unregistered medicines (seed 003, domain.md § 6), as
//! pure functions over dispensing records: the most used medicines ([`top`]) and the patient
//! counts with small numbers suppressed ([`suppress`]). Reading files, writing CSV/XLSX and the
//! web page are edges that call these.
//!
//! Quantities of packages are kept in thousandths ([`MilliPackages`]): a multidose dispensing is
//! a fraction of a package, and sums of fractions must come out the same in every order.

pub mod read;
pub mod suppress;
pub mod top;

use domain::Date;

/// Packages in thousandths (1.5 packages = 1500).
pub type MilliPackages = i64;

/// Human or veterinary use (seed 003 reports them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Species {
    /// Dispensed for a person.
    Human,
    /// Dispensed for an animal (on an ATCvet code, `Q…`, or a human code).
    Vet,
}

/// One dispensing, as the statistics read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The day it was dispensed.
    pub date: Date,
    /// A pseudonymous patient id (never a fødselsnummer).
    pub patient: String,
    /// The package's varenummer, leading zeros kept.
    pub varenr: String,
    /// ATC code (ATCvet for animals), possibly at group level.
    pub atc: String,
    /// The substance.
    pub substance: String,
    /// Packages dispensed, in thousandths.
    pub packages: MilliPackages,
    /// Defined daily doses per package, where a DDD is defined.
    pub ddd_per_package: Option<f64>,
    /// Without marketing authorisation (dispensed under an approval exemption).
    pub unregistered: bool,
    /// For whom.
    pub species: Species,
}

impl Record {
    /// The record as the tables read it, borrowed.
    pub fn as_ref(&self) -> read::RecordRef<'_> {
        read::RecordRef {
            date: self.date,
            patient: &self.patient,
            varenr: &self.varenr,
            atc: std::borrow::Cow::Borrowed(&self.atc),
            substance: &self.substance,
            packages: self.packages,
            ddd_per_package: self.ddd_per_package,
            unregistered: self.unregistered,
            species: self.species,
        }
    }
}

pub mod patients;
