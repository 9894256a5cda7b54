//! Calendar dates, as the rules speak of them: a prescribing date, a listing date, the last
//! day a prescription is valid. No clock is read anywhere in the core: a date is always input.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

/// A calendar date (no time, no zone), written `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError {
    input: String,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ugyldig dato «{}»: ventet ÅÅÅÅ-MM-DD, f.eks. 2025-01-31",
            self.input
        )
    }
}

impl std::error::Error for DateError {}

impl Date {
    /// A date from its parts, if it exists in the calendar.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date)
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day), nothing more:
    /// no time, no zone, no surrounding space. Stricter than `chrono`'s own parser on purpose,
    /// so that `2025-1-5` or `2025-01-05T00:00` is an error rather than a guess.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let fail = || DateError {
            input: text.chars().take(40).collect(),
        };
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(fail());
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(fail());
        };
        Date::from_ymd(y as i32, m, d).ok_or_else(fail)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// Whole years from `birth`-like `earlier` to `self` (used for ages and validity periods).
    pub fn years_since(self, earlier: Date) -> Option<u32> {
        self.0.years_since(earlier.0)
    }

    /// The date `months` calendar months later (end of month clamps: 31 Jan + 1 = 28/29 Feb).
    pub fn plus_months(self, months: u32) -> Option<Date> {
        self.0
            .checked_add_months(chrono::Months::new(months))
            .map(Date)
    }

    /// The date `days` days later; `None` past the calendar's end.
    pub fn plus_days(self, days: u32) -> Option<Date> {
        self.0
            .checked_add_days(chrono::Days::new(u64::from(days)))
            .map(Date)
    }

    /// The date `days` days earlier; `None` before the calendar's start.
    pub fn minus_days(self, days: u32) -> Option<Date> {
        self.0
            .checked_sub_days(chrono::Days::new(u64::from(days)))
            .map(Date)
    }

    /// The day before (a period "for 12 months from 2026-01-15" ends 2027-01-14, inclusive).
    pub fn previous_day(self) -> Option<Date> {
        self.0.pred_opt().map(Date)
    }

    /// Days from `earlier` to this date (negative if `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        (self.0 - earlier.0).num_days()
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.0.month()
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse(s)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// A half-open period `[from, to)`: in force from `from` (inclusive) until `to` (exclusive),
/// or without end. Effective dates in the law are "fra og med": inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// First day in force.
    pub from: Date,
    /// First day no longer in force, if the period has ended.
    pub until: Option<Date>,
}

impl Period {
    /// Whether `date` lies in the period.
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && self.until.is_none_or(|u| date < u)
    }

    /// Whether two periods share a day.
    pub fn overlaps(&self, other: &Period) -> bool {
        let starts_before_other_ends = other.until.is_none_or(|u| self.from < u);
        let other_starts_before_self_ends = self.until.is_none_or(|u| other.from < u);
        starts_before_other_ends && other_starts_before_self_ends
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.until {
            Some(u) => write!(f, "{} til {}", self.from, u),
            None => write!(f, "fra {}", self.from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strictly() {
        assert_eq!(Date::parse("2024-11-01").unwrap().to_string(), "2024-11-01");
        for bad in [
            "2024-11-1",
            "2024-13-01",
            "2024-02-30",
            "20241101",
            "2024-11-01T00:00",
            " 2024-11-01",
            "2024-1a-01",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Date::parse("2024-02-29").is_ok());
    }

    #[test]
    fn periods_are_inclusive_at_start_exclusive_at_end() {
        let d = |s| Date::parse(s).unwrap();
        let p = Period {
            from: d("2024-11-01"),
            until: Some(d("2025-01-01")),
        };
        assert!(!p.contains(d("2024-10-31")));
        assert!(p.contains(d("2024-11-01")));
        assert!(p.contains(d("2024-12-31")));
        assert!(!p.contains(d("2025-01-01")));
        let open = Period {
            from: d("2025-01-01"),
            until: None,
        };
        assert!(!p.overlaps(&open));
        assert!(open.overlaps(&Period {
            from: d("2030-01-01"),
            until: None
        }));
    }
}
