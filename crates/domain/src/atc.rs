//! The ATC code: WHO's Anatomical Therapeutic Chemical classification.
//!
//! Every rule that matches a medicine does so by ATC code or ATC group (the § 1b list, the § 4
//! groups, the specialist groups of B4, the opioid scope of B5). An [`Atc`] is parsed and checked
//! once, at the edge, so that rule code can compare codes without re-validating them.

use std::fmt;
use std::str::FromStr;

/// A valid ATC or ATCvet code, at any level: a substance (`J01GB06`) or a group (`L01`, `L01EM`).
///
/// Levels: 1 (anatomical main group, `A`), 3 (`A10`), 4 (`A10B`), 5 (`A10BJ`) and 7 characters
/// (`A10BJ06`). ATCvet codes are the same with a leading `Q` (`QJ01CA04`). Input is accepted in
/// either case and stored in upper case; nothing else (spaces, other lengths, a digit where a
/// letter belongs, an unknown main group) is accepted.
///
/// The code is stored inline, so an `Atc` is `Copy` and comparing two is comparing two integers.
#[derive(Clone, Copy)]
pub struct Atc {
    /// ASCII upper case, left-aligned, zero-padded. Read big-endian as a `u64` (the key), the
    /// integer order is the codes' alphabetical order, and a group is a prefix mask.
    bytes: [u8; 8],
    len: u8,
}

impl Atc {
    fn key(&self) -> u64 {
        u64::from_be_bytes(self.bytes)
    }
}

// The padding is zero and no code contains a zero byte, so the key alone identifies a code.
impl PartialEq for Atc {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Atc {}

impl PartialOrd for Atc {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Atc {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for Atc {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

/// The anatomical main groups of the human ATC system.
const HUMAN_MAIN_GROUPS: &[u8] = b"ABCDGHJLMNPRSV";
/// ATCvet adds `I` (immunologicals for veterinary use) to the main groups.
const VET_MAIN_GROUPS: &[u8] = b"ABCDGHIJLMNPRSV";

/// Why a text is not an ATC code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtcError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for AtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ugyldig ATC-kode «{}»: {}", self.input, self.reason)
    }
}

impl std::error::Error for AtcError {}

impl Atc {
    /// What [`Atc::parse`] takes, as a regular expression for a JSON Schema (the API document):
    /// a main group of the human system, or Q and an ATCvet main group, then two digits, a
    /// letter, a letter, two digits, stopping after any level; either case. Made from the same
    /// lists of main groups, so the two cannot differ.
    pub fn pattern() -> String {
        let both_cases = |groups: &[u8]| {
            let upper = String::from_utf8_lossy(groups).into_owned();
            format!("{upper}{}", upper.to_ascii_lowercase())
        };
        format!(
            "^([{}]|[Qq][{}])([0-9]{{2}}([A-Za-z]([A-Za-z]([0-9]{{2}})?)?)?)?$",
            both_cases(HUMAN_MAIN_GROUPS),
            both_cases(VET_MAIN_GROUPS)
        )
    }

    /// Parses an ATC or ATCvet code at any level.
    pub fn parse(text: &str) -> Result<Atc, AtcError> {
        let fail = |reason| AtcError {
            input: text.chars().take(40).collect(),
            reason,
        };
        let raw = text.as_bytes();
        if raw.is_empty() {
            return Err(fail("tom tekst; ventet f.eks. «J01GB06» eller «L01»"));
        }
        if raw.len() > 8 || !raw.is_ascii() {
            return Err(fail(
                "ventet 1, 3, 4, 5 eller 7 tegn (ATCvet: med «Q» foran)",
            ));
        }
        let mut bytes = [0u8; 8];
        for (slot, b) in bytes.iter_mut().zip(raw) {
            *slot = b.to_ascii_uppercase();
        }
        // No human main group is Q, so a leading Q always means ATCvet.
        let vet = bytes[0] == b'Q';
        let (body, main_groups) = if vet {
            (&bytes[1..raw.len()], VET_MAIN_GROUPS)
        } else {
            (&bytes[..raw.len()], HUMAN_MAIN_GROUPS)
        };
        if !matches!(body.len(), 1 | 3 | 4 | 5 | 7) {
            return Err(fail(if vet {
                "ATCvet-koder har 2, 4, 5, 6 eller 8 tegn"
            } else {
                "ventet 1, 3, 4, 5 eller 7 tegn"
            }));
        }
        // Position by position: main group letter, two digits, two letters, two digits.
        for (i, &b) in body.iter().enumerate() {
            let ok = match i {
                0 => main_groups.contains(&b),
                1 | 2 | 5 | 6 => b.is_ascii_digit(),
                _ => b.is_ascii_uppercase(),
            };
            if !ok {
                return Err(fail(match i {
                    0 => "ukjent anatomisk hovedgruppe",
                    1 | 2 | 5 | 6 => "ventet et siffer på denne plassen",
                    _ => "ventet en bokstav på denne plassen",
                }));
            }
        }
        Ok(Atc {
            bytes,
            len: raw.len() as u8,
        })
    }

    /// The code as text, upper case.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }

    /// Whether this is an ATCvet code (leading `Q`).
    pub fn is_vet(&self) -> bool {
        self.bytes[0] == b'Q'
    }

    /// Whether this code names a chemical substance (the 5th, most detailed level).
    pub fn is_substance(&self) -> bool {
        self.level_len() == 7
    }

    /// Length of the code without the ATCvet `Q`.
    fn level_len(&self) -> u8 {
        self.len - u8::from(self.is_vet())
    }

    /// Whether `self` lies in `group` (or is it). `J01GB06` is in `J`, `J01`, `J01G`, `J01GB` and
    /// `J01GB06`; it is not in `J02`. Human and veterinary codes are never in each other's groups.
    pub fn is_in(&self, group: &Atc) -> bool {
        let mask = u64::MAX << (8 * (8 - u32::from(group.len)));
        group.len <= self.len && self.key() & mask == group.key()
    }

    /// The groups this code lies in, from the main group down to the code itself
    /// (`J01GB06` → `J`, `J01`, `J01G`, `J01GB`, `J01GB06`). Every prefix at a valid level of a
    /// valid code is itself valid, so no parsing is needed.
    pub fn groups(self) -> impl Iterator<Item = Atc> {
        let vet = usize::from(self.is_vet());
        [1usize, 3, 4, 5, 7]
            .into_iter()
            .map(move |n| n + vet)
            .filter(move |&n| n <= self.len as usize)
            .map(move |n| {
                let mut bytes = [0u8; 8];
                bytes[..n].copy_from_slice(&self.bytes[..n]);
                Atc {
                    bytes,
                    len: n as u8,
                }
            })
    }

    /// Whether `self` lies in any of `groups`.
    pub fn is_in_any(&self, groups: &[Atc]) -> bool {
        groups.iter().any(|g| self.is_in(g))
    }
}

impl FromStr for Atc {
    type Err = AtcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Atc::parse(s)
    }
}

impl fmt::Display for Atc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Atc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atc({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_schema_pattern_is_made_from_the_main_groups() {
        assert_eq!(
            Atc::pattern(),
            "^([ABCDGHJLMNPRSVabcdghjlmnprsv]|[Qq][ABCDGHIJLMNPRSVabcdghijlmnprsv])([0-9]{2}([A-Za-z]([A-Za-z]([0-9]{2})?)?)?)?$"
        );
    }

    use super::*;

    #[test]
    fn accepts_every_level() {
        for code in [
            "A", "A10", "A10B", "A10BJ", "A10BJ06", "L01EM", "QJ01CA04", "QJ", "QJ01", "QI07AA",
        ] {
            assert_eq!(Atc::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn normalises_case() {
        assert_eq!(Atc::parse("j01gb06").unwrap().as_str(), "J01GB06");
    }

    #[test]
    fn rejects_malformed_codes() {
        for code in [
            "", "J0", "J01GB0", "J01GB066", "X01", "101", "J0AGB06", "J01G106", "J01GB0A", " J01",
            "J01 ", "Q", "QJ0", "Jø1", "I01",
        ] {
            assert!(Atc::parse(code).is_err(), "{code:?} should be rejected");
        }
    }

    #[test]
    fn groups_from_the_top() {
        let groups: Vec<String> = Atc::parse("J01GB06")
            .unwrap()
            .groups()
            .map(|g| g.to_string())
            .collect();
        assert_eq!(groups, ["J", "J01", "J01G", "J01GB", "J01GB06"]);
        let groups: Vec<String> = Atc::parse("QJ01")
            .unwrap()
            .groups()
            .map(|g| g.to_string())
            .collect();
        assert_eq!(groups, ["QJ", "QJ01"]);
        for g in Atc::parse("L01EM03").unwrap().groups() {
            assert_eq!(Atc::parse(g.as_str()).unwrap(), g);
        }
    }

    #[test]
    fn group_membership() {
        let a = Atc::parse("J01GB06").unwrap();
        assert!(a.is_in(&Atc::parse("J").unwrap()));
        assert!(a.is_in(&Atc::parse("J01GB").unwrap()));
        assert!(a.is_in(&a));
        assert!(!a.is_in(&Atc::parse("J02").unwrap()));
        assert!(!Atc::parse("J").unwrap().is_in(&a));
        assert!(
            !Atc::parse("QJ01CA04")
                .unwrap()
                .is_in(&Atc::parse("J").unwrap())
        );
    }
}
