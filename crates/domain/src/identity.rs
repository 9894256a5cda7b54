//! Norwegian person identifiers: fødselsnummer and D-number (11 digits, two mod-11 check
//! digits). A D-number is a fødselsnummer with 4 added to the first digit. Checked so that a
//! typing error is caught in the form, not in Helfo's reply.

use crate::PatientId;

/// A checked fødselsnummer or D-number. Never logged or written to the audit trail.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonId(String);

impl std::fmt::Debug for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Six digits of birth date are enough to recognise a test case and too few to identify.
        write!(f, "PersonId({}*****)", &self.0[..6])
    }
}

impl PersonId {
    /// Checks the 11 digits against `kind` (fødselsnummer or D-number).
    pub fn parse(text: &str, kind: PatientId) -> Result<PersonId, &'static str> {
        let digits: Vec<u32> = text.trim().chars().filter_map(|c| c.to_digit(10)).collect();
        if text.trim().chars().count() != 11 || digits.len() != 11 {
            return Err("ventet 11 sifre");
        }
        const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
        const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
        let check = |weights: &[u32]| {
            let sum: u32 = weights.iter().zip(&digits).map(|(w, d)| w * d).sum();
            match 11 - sum % 11 {
                11 => Some(0),
                10 => None,
                k => Some(k),
            }
        };
        if check(&K1) != Some(digits[9]) || check(&K2) != Some(digits[10]) {
            return Err("kontrollsifrene stemmer ikke; sjekk nummeret");
        }
        let is_dnr = digits[0] >= 4;
        match (kind, is_dnr) {
            (PatientId::Fnr, true) => {
                Err("dette er et D-nummer (første siffer 4–7), ikke et fødselsnummer")
            }
            (PatientId::Dnr, false) => Err("dette er et fødselsnummer, ikke et D-nummer"),
            (PatientId::None, _) => {
                Err("pasienten er oppgitt å være uten fødselsnummer og D-nummer")
            }
            _ => Ok(PersonId(text.trim().to_string())),
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_numbers_check() {
        // Synthetic test numbers (not real persons).
        assert!(PersonId::parse("01010012356", PatientId::Fnr).is_ok());
        assert!(PersonId::parse("55058012342", PatientId::Dnr).is_ok());
        assert!(PersonId::parse("01010012357", PatientId::Fnr).is_err());
        assert!(PersonId::parse("0101001235", PatientId::Fnr).is_err());
        assert!(PersonId::parse("55058012342", PatientId::Fnr).is_err());
    }
}
