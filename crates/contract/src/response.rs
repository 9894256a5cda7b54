//! Decisions as they leave: JSON with the contract's field names and values.
//!
//! Written by hand rather than through serde: the shape is fixed and small, and
//! `decide --batch` writes hundreds of thousands of decisions a second, most of whose bytes are
//! explanation text. Escaping is checked for a whole string at once (a loop the compiler
//! vectorises) and the common clean string is copied in one go.

use std::io::Write as _;

use decide::{Action, Blocker, Decision, Step};
use dispense::DispensingDecision;

use crate::ContractError;

/// Appends a `decide` answer as contract JSON.
pub fn write_decision(d: &Decision, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"payer\":");
    string(out, d.payer.code());
    out.extend_from_slice(b",\"scheme\":");
    string(out, d.scheme.code());
    out.extend_from_slice(b",\"prescription\":");
    string(out, d.prescription.code());
    out.extend_from_slice(b",\"actions\":");
    list(out, &d.actions, action);
    out.extend_from_slice(b",\"blockers\":");
    list(out, &d.blockers, blocker);
    out.extend_from_slice(if d.copayment {
        b",\"copayment\":true"
    } else {
        b",\"copayment\":false"
    });
    why(out, d.rule_set, &d.citations, &d.explanation);
}

/// Appends a `dispense` answer as contract JSON. `register_as` and `payer` are absent when the
/// prescription is not accepted.
pub fn write_dispensing(d: &DispensingDecision, out: &mut Vec<u8>) {
    out.extend_from_slice(if d.accepted {
        b"{\"accepted\":true"
    } else {
        b"{\"accepted\":false"
    });
    if let Some(form) = d.register_as {
        out.extend_from_slice(b",\"register_as\":");
        string(out, form.code());
    }
    if let Some(payer) = d.payer {
        out.extend_from_slice(b",\"payer\":");
        string(out, payer.code());
    }
    out.extend_from_slice(b",\"blockers\":");
    list(out, &d.blockers, blocker);
    why(out, d.rule_set, &d.citations, &d.explanation);
}

/// Appends `{"error": {"field": …, "message": …}}`, with the input line in batch mode.
pub fn write_error(error: &ContractError, line: Option<u64>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"error\":{\"field\":");
    string(out, &error.field);
    out.extend_from_slice(b",\"message\":");
    string(out, &error.message);
    if let Some(line) = line {
        // Writing to a Vec cannot fail.
        let _ = write!(out, ",\"line\":{line}");
    }
    out.extend_from_slice(b"}}");
}

/// The fields every answer ends with: the data used, the law cited, the rules tried; and `}`.
fn why(out: &mut Vec<u8>, rule_set: &str, citations: &[&str], explanation: &[Step]) {
    out.extend_from_slice(b",\"rule_set\":");
    string(out, rule_set);
    out.extend_from_slice(b",\"citations\":");
    list(out, citations, |out, c| string(out, c));
    out.extend_from_slice(b",\"explanation\":");
    list(out, explanation, step);
    out.push(b'}');
}

fn action(out: &mut Vec<u8>, a: &Action) {
    out.extend_from_slice(b"{\"kind\":");
    string(out, a.kind.code());
    if let Some(applicant) = a.applicant {
        out.extend_from_slice(b",\"applicant\":");
        string(out, applicant.code());
    }
    out.push(b'}');
}

fn blocker(out: &mut Vec<u8>, b: &Blocker) {
    out.extend_from_slice(b"{\"code\":");
    string(out, b.code.code());
    out.extend_from_slice(b",\"message\":");
    string(out, &b.message);
    out.push(b'}');
}

fn step(out: &mut Vec<u8>, s: &Step) {
    out.extend_from_slice(b"{\"rule\":");
    string(out, s.rule.code());
    out.extend_from_slice(if s.applied {
        b",\"applied\":true,\"text\":"
    } else {
        b",\"applied\":false,\"text\":"
    });
    string(out, &s.text);
    out.push(b'}');
}

fn list<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

/// A JSON string: quoted, with `"`, `\` and control characters escaped (RFC 8259 §7).
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // No early exit, so this compiles to a vector loop; almost every string is clean.
    let needs_escape = bytes.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs_escape {
        out.extend_from_slice(bytes);
    } else {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0..=0x1f => {
                    out.extend_from_slice(&bytes[start..i]);
                    let _ = write!(out, "\\u{:04x}", b);
                    start = i + 1;
                    continue;
                }
                _ => continue,
            };
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(escaped);
            start = i + 1;
        }
        out.extend_from_slice(&bytes[start..]);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_does() {
        for s in [
            "",
            "enkel tekst",
            "blåreseptforskriften § 3",
            "\"sitat\"",
            "a\\b",
            "linje\nlinje",
            "\t\r\u{1}\u{1f}\u{7f}",
            "æøå\u{2028}",
        ] {
            assert_eq!(json(s), serde_json::to_string(s).unwrap(), "{s:?}");
            assert_eq!(serde_json::from_str::<String>(&json(s)).unwrap(), s);
        }
    }
}
