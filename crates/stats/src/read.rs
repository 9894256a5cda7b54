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
    let t = text.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 3 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").parse().ok()?
    };
    (whole >= 0 && frac >= 0).then_some(whole * 1000 + frac)
}

/// One line (without its newline) as a record. The fields are split on commas; a substance with
/// a comma must be quoted.
pub fn record(line: &str) -> Result<Record, FieldError> {
    let fields = split(line);
    if fields.len() != 9 {
        return Err(err(
            "*",
            format!("ventet 9 kolonner ({HEADER}), fant {}", fields.len()),
        ));
    }
    let date = Date::parse(fields[0].trim()).map_err(|e| err("date", e.to_string()))?;
    let varenr = fields[2].trim();
    if varenr.len() != 6 || !varenr.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            "varenr",
            format!("ventet seks sifre (med innledende nuller), fikk «{varenr}»"),
        ));
    }
    let atc = fields[3].trim();
    if atc.is_empty() || atc.len() > 8 || !atc.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err(
            "atc",
            format!("ventet en ATC- eller ATCvet-kode, fikk «{atc}»"),
        ));
    }
    let packages = milli_packages(&fields[5]).ok_or_else(|| {
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
        d => Some(
            d.replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| {
                    err(
                        "ddd_per_package",
                        format!("ventet DDD per pakning (over 0) eller tomt, fikk «{d}»"),
                    )
                })?,
        ),
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
    let species = match fields[8].trim() {
        "human" => Species::Human,
        "vet" => Species::Vet,
        other => {
            return Err(err(
                "species",
                format!("ventet human eller vet, fikk «{other}»"),
            ));
        }
    };
    Ok(Record {
        date,
        patient: fields[1].trim().to_string(),
        varenr: varenr.to_string(),
        atc: atc.to_ascii_uppercase(),
        substance: fields[4].trim().to_string(),
        packages,
        ddd_per_package: ddd,
        unregistered,
        species,
    })
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
