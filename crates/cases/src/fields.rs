//! Forms as named text fields, and reading them into typed values with an error per field.
//!
//! The web form and the API send the same fields (the API's JSON values are turned into text
//! by the service), so one reader validates both, and a message always lands next to the field
//! it is about.

use std::collections::BTreeMap;

use domain::{Atc, Date, Ore};

/// The raw fields of a form, by name. Stored as they were typed, so a draft can be incomplete
/// and a returned form is shown again exactly as it was.
pub type Fields = BTreeMap<String, String>;

/// A message about one field (bokmål).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// The longest text accepted in one field (a treatment plan fits comfortably).
pub const MAX_TEXT: usize = 10_000;

/// The codes of every value of a coded enum, for the "ventet en av: …" messages.
pub fn codes<T: Copy>(all: &[T], code: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| code(*v)).collect()
}

/// Reads fields and collects every error, so the whole form is checked in one go.
pub struct Reader<'f> {
    fields: &'f Fields,
    /// The errors so far.
    pub errors: Vec<FieldError>,
}

impl<'f> Reader<'f> {
    /// A reader over `fields`.
    pub fn new(fields: &'f Fields) -> Reader<'f> {
        Reader {
            fields,
            errors: Vec::new(),
        }
    }

    /// Records an error on `field`.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// The trimmed text, `None` if empty or missing.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        let value = self.fields.get(name).map(|v| v.trim()).unwrap_or("");
        if value.chars().count() > MAX_TEXT {
            self.error(name, format!("teksten er for lang (høyst {MAX_TEXT} tegn)"));
            return None;
        }
        (!value.is_empty()).then(|| value.to_string())
    }

    /// Required text; `what` says what is missing.
    pub fn text(&mut self, name: &str, what: &str) -> String {
        match self.optional(name) {
            Some(v) => v,
            None => {
                if !self.errors.iter().any(|e| e.field == name) {
                    self.error(name, format!("fyll inn {what}"));
                }
                String::new()
            }
        }
    }

    /// A yes/no field: `ja`/`nei` as the web form sends them, `true`/`false` as the API does.
    /// A missing checkbox is "no".
    pub fn yes_no(&mut self, name: &str) -> bool {
        match self.fields.get(name).map(|v| v.trim()) {
            None | Some("") | Some("nei") | Some("false") => false,
            Some("ja") | Some("true") | Some("on") => true,
            Some(other) => {
                self.error(name, format!("ventet ja eller nei, fikk «{other}»"));
                false
            }
        }
    }

    /// One of a fixed set of codes.
    pub fn choice<T: Copy>(
        &mut self,
        name: &str,
        from_code: impl Fn(&str) -> Option<T>,
        codes: &[&str],
    ) -> Option<T> {
        let value = self.fields.get(name).map(|v| v.trim()).unwrap_or("");
        if value.is_empty() {
            self.error(name, format!("velg en av: {}", codes.join(", ")));
            return None;
        }
        let parsed = from_code(value);
        if parsed.is_none() {
            self.error(
                name,
                format!("ukjent verdi «{value}»; ventet en av: {}", codes.join(", ")),
            );
        }
        parsed
    }

    /// An optional choice (empty is `None`).
    pub fn optional_choice<T: Copy>(
        &mut self,
        name: &str,
        from_code: impl Fn(&str) -> Option<T>,
        codes: &[&str],
    ) -> Option<T> {
        let empty = self.fields.get(name).is_none_or(|v| v.trim().is_empty());
        if empty {
            None
        } else {
            self.choice(name, from_code, codes)
        }
    }

    /// A valid ATC code.
    pub fn atc(&mut self, name: &str) -> Option<Atc> {
        let value = self.text(name, "ATC-kode (f.eks. L01XC07)");
        if value.is_empty() {
            return None;
        }
        match Atc::parse(&value.to_ascii_uppercase()) {
            Ok(atc) => Some(atc),
            Err(e) => {
                self.error(name, e.to_string());
                None
            }
        }
    }

    /// A date `YYYY-MM-DD`.
    pub fn date(&mut self, name: &str) -> Option<Date> {
        let value = self.text(name, "dato (dd.mm.åååå eller ÅÅÅÅ-MM-DD)");
        if value.is_empty() {
            return None;
        }
        self.parse_date(name, &value)
    }

    fn parse_date(&mut self, name: &str, value: &str) -> Option<Date> {
        match parse_norwegian_date(value) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(name, format!("«{value}»: {e}"));
                None
            }
        }
    }

    /// Dates, one per line (or separated by commas), ascending, at least one.
    pub fn dates(&mut self, name: &str, what: &str) -> Vec<Date> {
        let value = self.text(name, what);
        let mut dates = Vec::new();
        for part in value
            .split(['\n', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match self.parse_date(name, part) {
                Some(d) => dates.push(d),
                None => return Vec::new(),
            }
        }
        if dates.windows(2).any(|w| w[0] >= w[1]) {
            self.error(
                name,
                "datoene må stå i stigende rekkefølge, uten gjentakelser",
            );
            return Vec::new();
        }
        dates
    }

    /// Lines of text, at least one.
    pub fn lines(&mut self, name: &str, what: &str) -> Vec<String> {
        self.text(name, what)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A whole number in `min..=max`.
    pub fn number(&mut self, name: &str, what: &str, min: u32, max: u32) -> Option<u32> {
        let value = self.text(name, what);
        if value.is_empty() {
            return None;
        }
        match value.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    name,
                    format!("ventet et helt tall fra {min} til {max}, fikk «{value}»"),
                );
                None
            }
        }
    }

    /// A decimal number in `min..=max` (comma or point).
    pub fn decimal(&mut self, name: &str, what: &str, min: f64, max: f64) -> Option<f64> {
        let value = self.text(name, what);
        if value.is_empty() {
            return None;
        }
        match value.replace(',', ".").parse::<f64>() {
            Ok(n) if n.is_finite() && (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    name,
                    format!("ventet et tall fra {min} til {max}, fikk «{value}»"),
                );
                None
            }
        }
    }

    /// An amount in kroner (`12 500`, `12500,50`), as whole øre.
    pub fn kroner(&mut self, name: &str, what: &str) -> Option<Ore> {
        let value = self.text(name, what);
        if value.is_empty() {
            return None;
        }
        match parse_kroner(&value) {
            Some(ore) => Some(ore),
            None => {
                self.error(
                    name,
                    format!(
                        "ventet et beløp i kroner, f.eks. 125000 eller 125 000,50; fikk «{value}»"
                    ),
                );
                None
            }
        }
    }
}

/// Kroner with optional øre (`,50` or `.50`) and spaces as thousands separators, into øre.
/// Never through a float: "0,1 kr" is exactly 10 øre.
pub fn parse_kroner(text: &str) -> Option<Ore> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    let compact = compact.strip_suffix("kr").unwrap_or(&compact).trim_end();
    let (whole, fraction) = match compact.split_once([',', '.']) {
        Some((w, f)) => (w, f),
        None => (compact, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 12 {
        return None;
    }
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kroner: u64 = whole.parse().ok()?;
    let ore: u64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    Some(Ore(kroner.checked_mul(100)?.checked_add(ore)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kroner_are_read_exactly() {
        assert_eq!(parse_kroner("125000"), Some(Ore(12_500_000)));
        assert_eq!(parse_kroner("125 000,50"), Some(Ore(12_500_050)));
        assert_eq!(parse_kroner("0,1"), Some(Ore(10)));
        assert_eq!(parse_kroner("12.05 kr"), Some(Ore(1205)));
        assert_eq!(parse_kroner("-5"), None);
        assert_eq!(parse_kroner("1,234"), None);
        assert_eq!(parse_kroner(""), None);
        assert_eq!(parse_kroner("1e5"), None);
    }

    #[test]
    fn every_error_names_its_field() {
        let fields = Fields::from([
            ("a".to_string(), "x".to_string()),
            ("d".to_string(), "2026-02-30".to_string()),
        ]);
        let mut r = Reader::new(&fields);
        r.number("a", "antall", 0, 5);
        r.date("d");
        r.text("missing", "noe");
        let names: Vec<&str> = r.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["a", "d", "missing"]);
    }
}

/// A date as people write it in Norway (`24.11.2026`, also `24.11.26` is not accepted: the
/// century is never guessed) or as ISO 8601 (`2026-11-24`).
pub fn parse_norwegian_date(text: &str) -> Result<Date, domain::DateError> {
    let t = text.trim();
    let parts: Vec<&str> = t.split('.').collect();
    if let [d, m, y] = parts[..]
        && (1..=2).contains(&d.len())
        && (1..=2).contains(&m.len())
        && y.len() == 4
    {
        return Date::parse(&format!("{y}-{m:0>2}-{d:0>2}"));
    }
    Date::parse(t)
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn norwegian_and_iso_dates_are_read_alike() {
        let iso = Date::parse("2026-11-24").unwrap();
        assert_eq!(parse_norwegian_date("24.11.2026"), Ok(iso));
        assert_eq!(parse_norwegian_date(" 2026-11-24 "), Ok(iso));
        assert_eq!(
            parse_norwegian_date("1.2.2026"),
            Ok(Date::parse("2026-02-01").unwrap())
        );
        assert!(parse_norwegian_date("31.02.2026").is_err());
        assert!(
            parse_norwegian_date("24.11.26").is_err(),
            "no guessed century"
        );
    }
}
