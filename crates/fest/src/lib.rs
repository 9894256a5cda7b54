//! The drug catalogue: FEST (Forskrivnings- og ekspedisjonsstøtte, message M30), the file DMP
//! publishes twice a month that every record system and pharmacy system loads.
//!
//! - [`parse`] reads a file as a stream (no whole-document DOM: one small tree per catalogue
//!   entry), checks the namespaces, and says where and why a corrupt or truncated file fails.
//! - [`generate`] writes schema-valid files of any size with realistic content, for tests and
//!   benchmarks (the real file cannot be downloaded here).
//! - [`Index`] answers look-ups by name, substance, ATC prefix and varenummer.
//!
//! **Architecture invariant:** no database and no files: readers and writers come from the edge.

mod dates;
pub mod generate;
mod index;
pub mod model;
pub mod parse;
pub mod resolve;

pub use index::{Hit, Index};
pub use model::Catalogue;
pub use parse::{ParseError, parse};

/// How many days old a snapshot is on `today`, from its `HentetDato` (`2026-11-15T02:00:00`);
/// `None` when the date cannot be read.
pub fn age_days(retrieved: &str, today: domain::Date) -> Option<i64> {
    let date = domain::Date::parse(retrieved.get(..10)?).ok()?;
    Some(today.days_since(date))
}

/// The default of how old the catalogue in force may be before the service and the CLI warn:
/// DMP publishes FEST every week or so, so two weeks without a new one means imports stopped.
pub const DEFAULT_MAX_AGE_DAYS: i64 = 14;
