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
