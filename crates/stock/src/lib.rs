//! **E1–E4** — emergency stockpiles, as pure functions over plain data (no clock, no I/O): the
//! store, the CLI and the HTTP service call these and keep the events.
//!
//! - [`ledger`]: the stock ledger of one lot — append-only events, balances derived from them,
//!   a back-dated event refused if it would make the balance negative at any time (E3's stock
//!   can never have been below nothing), corrections as reversals, and a verification that
//!   recomputes everything from the events.
//! - [`fefo`]: first expiry, first out (E3): which lots a delivery is taken from.
//! - [`coverage`]: the requirement from last year's sales (E1, E2) and days of coverage.
//! - [`rationing`]: DMP's restrictions in a shortage (E4) and a proportional allocation that
//!   keeps a reserve.
//!
//! Quantities are whole packages (`i64`): a package is the unit wholesalers count and deliver.

pub mod coverage;
pub mod fefo;
pub mod ledger;
pub mod rationing;

pub use coverage::{Coverage, Requirement};
pub use fefo::{Allocation, LotStock, Pick};
pub use ledger::{Event, EventKind, LedgerError, NewEvent};
