//! Dispensing records as text: one CSV line per dispensing, with the header
//! `date,patient,varenr,atc,substance,packages,ddd_per_package,unregistered,species`. A wrong
//! field is named by its column; the caller names the line.

use domain::Date;

use crate::{MilliPackages, Record, Species};

/// The header a records file starts with.
pub const HEADER: &str =
    "date,patient,varenr,atc,substance,packages,ddd_per_package,unregistered,species";

/// What is wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The column.
    pub column: &'static str,
    /// What was expected.
    pub message: String,
}

fn err(column: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        column,
        message: message.into(),
    }
}

/// Packages with up to three decimals (`1`, `0.5`, `2,25`) in thousandths, exactly.
pub fn milli_packages(text: &str) -> Option<MilliPackages> {
    let t = text.trim().as_bytes();
    let dot = t.iter().position(|b| *b == b'.' || *b == b',');
    let (whole, frac) = match dot {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, &t[t.len()..]),
    };
    if whole.is_empty() && frac.is_empty() || frac.len() > 3 {
        return None;
    }
    if !whole.iter().chain(frac).all(u8::is_ascii_digit) || whole.len() > 15 {
        return None;
    }
    let number = |digits: &[u8]| {
        digits
            .iter()
            .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))
    };
    let scale = [1000, 100, 10, 1][frac.len()];
    Some(number(whole) * 1000 + number(frac) * scale)
}

/// A record that borrows its text from the line: what the tables read, without an allocation
/// per line (a year of a nation's dispensings is tens of millions of lines).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordRef<'a> {
    /// The day it was dispensed.
    pub date: Date,
    /// Pseudonymous patient id.
    pub patient: &'a str,
    /// Varenummer, leading zeros kept.
    pub varenr: &'a str,
    /// ATC code, upper case.
    pub atc: std::borrow::Cow<'a, str>,
    /// Substance.
    pub substance: &'a str,
    /// Packages in thousandths.
    pub packages: MilliPackages,
    /// DDD per package, where defined.
    pub ddd_per_package: Option<f64>,
    /// Without MT.
    pub unregistered: bool,
    /// For whom.
    pub species: Species,
}

impl RecordRef<'_> {
    /// An owned record.
    pub fn to_owned(&self) -> Record {
        Record {
            date: self.date,
            patient: self.patient.to_string(),
            varenr: self.varenr.to_string(),
            atc: self.atc.to_string(),
            substance: self.substance.to_string(),
            packages: self.packages,
            ddd_per_package: self.ddd_per_package,
            unregistered: self.unregistered,
            species: self.species,
        }
    }
}

/// The nine fields of a line, checked.
fn checked<'a>(fields: &[&'a str]) -> Result<RecordRef<'a>, FieldError> {
    if fields.len() != 9 {
        return Err(err(
            "*",
            format!("ventet 9 kolonner ({HEADER}), fant {}", fields.len()),
        ));
    }
    let date = Date::parse(fields[0].trim()).map_err(|e| err("date", e.to_string()))?;
    let packages = milli_packages(fields[5]).ok_or_else(|| {
        err(
            "packages",
            format!(
                "ventet et antall pakninger (høyst tre desimaler), fikk «{}»",
                fields[5]
            ),
        )
    })?;
    let ddd = match fields[6].trim() {
        "" | "-" => None,
        d => Some(d.replace(',', ".").parse::<f64>().map_err(|_| {
            err(
                "ddd_per_package",
                format!("ventet DDD per pakning (over 0) eller tomt, fikk «{d}»"),
            )
        })?),
    };
    let unregistered = match fields[7].trim() {
        "true" | "1" | "ja" => true,
        "false" | "0" | "nei" => false,
        other => {
            return Err(err(
                "unregistered",
                format!("ventet true eller false, fikk «{other}»"),
            ));
        }
    };
    from_parts(
        date,
        fields[1],
        fields[2],
        fields[3],
        fields[4],
        packages,
        ddd,
        unregistered,
        fields[8],
    )
}

/// A record from its values, as a columnar file (Parquet) gives them: the text fields checked as
/// a CSV line's are (varenummer six digits, an ATC or ATCvet code, a species), a DDD over 0.
#[allow(clippy::too_many_arguments)]
pub fn from_parts<'a>(
    date: Date,
    patient: &'a str,
    varenr: &'a str,
    atc: &'a str,
    substance: &'a str,
    packages: MilliPackages,
    ddd_per_package: Option<f64>,
    unregistered: bool,
    species: &str,
) -> Result<RecordRef<'a>, FieldError> {
    let varenr = varenr.trim();
    if varenr.len() != 6 || !varenr.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            "varenr",
            format!("ventet seks sifre (med innledende nuller), fikk «{varenr}»"),
        ));
    }
    let mut r = without_identity(
        date,
        atc,
        substance,
        packages,
        ddd_per_package,
        unregistered,
        species,
    )?;
    r.patient = patient.trim();
    r.varenr = varenr;
    Ok(r)
}

/// A record without its patient and varenummer (both empty), for the tables that read
/// neither (tables 2, 6 and 7): a columnar file need not decode those columns at all. The other
/// fields are checked as [`from_parts`] checks them.
pub fn without_identity<'a>(
    date: Date,
    atc: &'a str,
    substance: &'a str,
    packages: MilliPackages,
    ddd_per_package: Option<f64>,
    unregistered: bool,
    species: &str,
) -> Result<RecordRef<'a>, FieldError> {
    let atc = checked_atc(atc)?;
    if packages < 0 {
        return Err(err("packages", "ventet et antall pakninger, ikke negativt"));
    }
    if let Some(d) = ddd_per_package
        && !(d.is_finite() && d > 0.0)
    {
        return Err(err(
            "ddd_per_package",
            format!("ventet DDD per pakning (over 0) eller tomt, fikk «{d}»"),
        ));
    }
    let species = checked_species(species)?;
    Ok(RecordRef {
        date,
        patient: "",
        varenr: "",
        atc,
        substance: substance.trim(),
        packages,
        ddd_per_package,
        unregistered,
        species,
    })
}

/// An ATC or ATCvet code as the tables key it: trimmed, upper case, letters and digits, at most
/// eight.
pub fn checked_atc(atc: &str) -> Result<std::borrow::Cow<'_, str>, FieldError> {
    let atc = atc.trim();
    if atc.is_empty() || atc.len() > 8 || !atc.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err(
            "atc",
            format!("ventet en ATC- eller ATCvet-kode, fikk «{atc}»"),
        ));
    }
    Ok(if atc.bytes().any(|b| b.is_ascii_lowercase()) {
        std::borrow::Cow::Owned(atc.to_ascii_uppercase())
    } else {
        std::borrow::Cow::Borrowed(atc)
    })
}

/// `human` or `vet`.
pub fn checked_species(species: &str) -> Result<Species, FieldError> {
    match species.trim() {
        "human" => Ok(Species::Human),
        "vet" => Ok(Species::Vet),
        other => Err(err(
            "species",
            format!("ventet human eller vet, fikk «{other}»"),
        )),
    }
}

/// Packages as a columnar file stores them (a DOUBLE): thousandths, exactly, or `None` when the
/// number is negative, not finite, or has more than three decimals.
pub fn milli_packages_of(x: f64) -> Option<MilliPackages> {
    let milli = (x * 1000.0).round();
    (x.is_finite() && x >= 0.0 && (x * 1000.0 - milli).abs() <= 1e-6 && milli < 9e15)
        .then_some(milli as MilliPackages)
}

/// One line (without its newline) as a record. The fields are split on commas; a substance with
/// a comma must be quoted.
pub fn record(line: &str) -> Result<Record, FieldError> {
    let owned = split(line);
    let fields: Vec<&str> = owned.iter().map(String::as_str).collect();
    checked(&fields).map(|r| r.to_owned())
}

/// One line as a borrowed record, when it has no quoted field (the common case); `None` when it
/// has one — read it with [`record`] then.
pub fn record_ref(line: &str) -> Option<Result<RecordRef<'_>, FieldError>> {
    if line.contains('"') {
        return None;
    }
    let mut fields = [""; 9];
    let mut n = 0;
    for f in line.split(',') {
        if n == 9 {
            return Some(Err(err(
                "*",
                format!("ventet 9 kolonner ({HEADER}), fant flere"),
            )));
        }
        fields[n] = f;
        n += 1;
    }
    Some(checked(&fields[..n]))
}

/// Splits a CSV line on commas outside double quotes (`""` inside quotes is one quote).
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_of_packages_are_exact_thousandths() {
        assert_eq!(milli_packages("1"), Some(1000));
        assert_eq!(milli_packages("0.5"), Some(500));
        assert_eq!(milli_packages("2,25"), Some(2250));
        assert_eq!(milli_packages(".125"), Some(125));
        assert_eq!(milli_packages("1.0005"), None);
        assert_eq!(milli_packages("-1"), None);
        assert_eq!(milli_packages(""), None);
    }

    #[test]
    fn a_line_keeps_leading_zeros_and_names_a_wrong_column() {
        let r = record("2024-12-31,p9,000123,N05CH01,\"melatonin, mikstur\",0.5,30,true,human")
            .unwrap();
        assert_eq!(
            (r.varenr.as_str(), r.substance.as_str(), r.packages),
            ("000123", "melatonin, mikstur", 500)
        );
        assert_eq!(
            record("2024-12-31,p9,123,N05CH01,x,1,,true,human")
                .unwrap_err()
                .column,
            "varenr"
        );
        assert_eq!(
            record("2024-12-31,p9,000123,N05CH01,x,1,,kanskje,human")
                .unwrap_err()
                .column,
            "unregistered"
        );
        assert_eq!(
            record("2024-13-31,p9,000123,N05CH01,x,1,,true,human")
                .unwrap_err()
                .column,
            "date"
        );
        assert_eq!(
            record("2024-12-31,p9,000123,N05CH01,x,1,-,true,hest")
                .unwrap_err()
                .column,
            "species"
        );
    }
}
