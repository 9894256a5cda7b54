//! The plain data of `legemiddel`: the facts a decision is made on and the words it is made of.
//!
//! Everything here is valid by construction: an [`Atc`] is a well-formed code, a [`Date`] exists
//! in the calendar, a dose is a finite number in range, and every choice is an enum. The crate
//! does no I/O, reads no clock and holds no state; the rule crates build on it.

#[macro_use]
mod macros;
mod atc;
mod date;
pub mod identity;
mod numbers;
mod request;
mod vocabulary;

pub use atc::{Atc, AtcError};
pub use date::{Date, DateError, Period};
pub use numbers::{Digits, Ore};
pub use request::*;
pub use vocabulary::*;
