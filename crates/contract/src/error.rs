//! Bad input, named by its field. Every error a request can cause ends up here, with the JSON
//! path of the field to blame (`drug.atc`) and a message in bokmål saying what was expected.

use std::fmt;

use serde::Deserialize;

/// A request that cannot be decided on: which field, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractError {
    /// JSON path of the offending field (`drug.atc`); `$` for the request as a whole.
    pub field: String,
    /// What is wrong, in bokmål.
    pub message: String,
}

impl ContractError {
    /// An error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ContractError {
        ContractError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ContractError {}

impl From<decide::DecideError> for ContractError {
    fn from(e: decide::DecideError) -> Self {
        ContractError::new(e.field(), e.message())
    }
}

/// Reads JSON into `T`. The fast path is plain `serde_json`; only when that fails is the input
/// read again with path tracking, so that the error names the field without slowing the
/// common case.
pub(crate) fn from_json<'de, T: Deserialize<'de>>(json: &'de [u8]) -> Result<T, ContractError> {
    match serde_json::from_slice(json) {
        Ok(v) => Ok(v),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(json);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => Err(describe(e)),
                // It reads as far as the object goes; then only trailing characters are left.
                Ok(_) => Err(match de.end() {
                    Err(e) => ContractError::new(
                        "$",
                        format!(
                            "ugyldig JSON (linje {}, kolonne {}): tegn etter slutten av objektet",
                            e.line(),
                            e.column()
                        ),
                    ),
                    Ok(()) => ContractError::new("$", "kunne ikke lese forespørselen"),
                }),
            }
        }
    }
}

/// Turns a serde error at a path into a field and a Norwegian message.
fn describe(e: serde_path_to_error::Error<serde_json::Error>) -> ContractError {
    // Segments the tracker could not name (`?`, after a syntax error) say nothing: drop them.
    let mut field = e
        .path()
        .to_string()
        .split('.')
        .filter(|s| !s.is_empty() && *s != "?")
        .collect::<Vec<_>>()
        .join(".");
    let inner = e.into_inner();
    let text = inner.to_string();
    // serde says "unknown field `x`, expected …" / "missing field `x`".
    let named = |prefix: &str| -> Option<String> {
        let rest = text.strip_prefix(prefix)?;
        let end = rest.find('`')?;
        Some(rest[..end].to_string())
    };
    let message = if let Some(name) = named("unknown field `") {
        if field.rsplit('.').next() != Some(name.as_str()) {
            push_segment(&mut field, &name);
        }
        let known = strip_position(text.split_once("expected ").map_or("", |(_, k)| k));
        let known = known.trim_start_matches("one of ").replace('`', "");
        if known.is_empty() {
            "ukjent felt".to_string()
        } else {
            format!("ukjent felt; kjente felt her: {known}")
        }
    } else if let Some(name) = named("missing field `") {
        push_segment(&mut field, &name);
        "påkrevd felt mangler".to_string()
    } else if inner.is_syntax() || inner.is_eof() {
        format!(
            "ugyldig JSON (linje {}, kolonne {}): {}",
            inner.line(),
            inner.column(),
            strip_position(&text)
        )
    } else {
        norwegian(strip_position(&text))
    };
    if field.is_empty() {
        field.push('$');
    }
    ContractError { field, message }
}

/// serde's words for a wrong value, in bokmål, with our internal type names hidden.
fn norwegian(text: &str) -> String {
    let (found, expected) = match text.split_once(", expected ") {
        Some((found, expected)) => (found, expected),
        None => return format!("ugyldig verdi: {text}"),
    };
    let found = found
        .replace("invalid type: ", "")
        .replace("invalid value: ", "")
        .replace("invalid length ", "lengde ");
    let expected = if expected.starts_with("struct ") {
        "et JSON-objekt"
    } else {
        match expected {
            "a boolean" => "true eller false",
            "f64" => "et tall",
            "i64" => "et heltall",
            "u16" => "et helt tall fra 0 til 65535",
            "u32" => "et helt tall fra 0",
            "a sequence" => "en liste",
            "a string" | "a borrowed string" => "en tekst",
            other => other,
        }
    };
    format!("ugyldig verdi ({found}); ventet {expected}")
}

fn push_segment(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

/// serde_json appends " at line L column C"; the message says where in its own words.
fn strip_position(text: &str) -> &str {
    text.rsplit_once(" at line ").map_or(text, |(head, _)| head)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Delivery {
        quantity: i64,
        days: u32,
        lots: Vec<String>,
        inner: Inner,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        a: bool,
    }

    /// Any struct's wrong values are named in bokmål, with serde's type names hidden.
    #[test]
    fn wrong_types_are_named_in_words() {
        let read = |json: &str| crate::read_object::<Delivery>(json.as_bytes()).unwrap_err();
        let e = read(r#"{"quantity": "5", "days": 1, "lots": [], "inner": {"a": true}}"#);
        assert_eq!(e.field, "quantity");
        assert!(e.message.ends_with("ventet et heltall"), "{}", e.message);
        let e = read(r#"{"quantity": 5, "days": -1, "lots": [], "inner": {"a": true}}"#);
        assert!(
            e.message.ends_with("ventet et helt tall fra 0"),
            "{}",
            e.message
        );
        let e = read(r#"{"quantity": 5, "days": 1, "lots": "L1", "inner": {"a": true}}"#);
        assert!(e.message.ends_with("ventet en liste"), "{}", e.message);
        let e = read(r#"{"quantity": 5, "days": 1, "lots": [], "inner": 3}"#);
        assert_eq!(e.field, "inner");
        assert!(
            e.message.ends_with("ventet et JSON-objekt"),
            "{}",
            e.message
        );
        let e = read(r#"[5, 1, [], {"a": true}]"#);
        assert_eq!(e.field, "$", "an array is not read by position");
    }
}
