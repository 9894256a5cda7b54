//! The register of regional health authorities and health trusts (`HELSEFORETAK`): who they
//! are, which RHF a trust belongs to, and which municipalities are its catchment.
//!
//! People choose a trust from here rather than typing one: a misspelt trust leaves an approved
//! case or an invoice addressed to nobody. The pharmacy's H-prescription claims go to the
//! trust of the patient's municipality (and its RHF), a white prescription's note names its
//! trust, and the invoice goes to the trust's electronic address.

use std::collections::BTreeMap;

/// A regional health authority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rhf {
    /// Short id (`helse-vest`).
    pub id: String,
    /// Name (`Helse Vest RHF`).
    pub name: String,
    /// Organisation number (nine digits, check digit verified).
    pub org_nr: String,
}

/// A health trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trust {
    /// Short id (`helse-bergen`).
    pub id: String,
    /// Name (`Helse Bergen HF`).
    pub name: String,
    /// The RHF's id.
    pub rhf: String,
    /// Organisation number.
    pub org_nr: String,
    /// Where invoices go: the data's own, or the EHF/PEPPOL address of the organisation number.
    pub invoice_address: String,
    /// Municipality numbers (four digits) of its catchment.
    pub municipalities: Vec<String>,
}

/// The register in force for a period.
#[derive(Clone, Debug, Default)]
pub struct TrustRegister {
    /// The RHFs.
    pub rhfs: Vec<Rhf>,
    /// The trusts.
    pub trusts: Vec<Trust>,
    /// Fields the source does not confirm.
    pub unconfirmed: Vec<String>,
    by_municipality: BTreeMap<String, usize>,
}

impl TrustRegister {
    /// A trust by its id or its name (case and surrounding space ignored).
    pub fn trust(&self, id_or_name: &str) -> Option<&Trust> {
        let wanted = id_or_name.trim().to_lowercase();
        self.trusts
            .iter()
            .find(|t| t.id == wanted || t.name.to_lowercase() == wanted)
    }

    /// The trust whose catchment holds municipality `number`.
    pub fn for_municipality(&self, number: &str) -> Option<&Trust> {
        self.by_municipality.get(number).map(|&i| &self.trusts[i])
    }

    /// An RHF by id.
    pub fn rhf(&self, id: &str) -> Option<&Rhf> {
        self.rhfs.iter().find(|r| r.id == id)
    }

    /// A trust's RHF.
    pub fn rhf_of(&self, trust: &Trust) -> &Rhf {
        // Loading checks that every trust's RHF exists.
        self.rhf(&trust.rhf).unwrap_or(&self.rhfs[0])
    }
}

/// Whether `nr` is a Norwegian organisation number: nine digits with a valid mod-11 check digit.
pub fn valid_org_nr(nr: &str) -> bool {
    let digits: Vec<u32> = nr.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 9 || nr.len() != 9 {
        return false;
    }
    let sum: u32 = digits[..8]
        .iter()
        .zip([3, 2, 7, 6, 5, 4, 3, 2])
        .map(|(d, w)| d * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == digits[8]
}

/// Validates and indexes a period's register.
pub(crate) fn build(r: crate::raw::RawTrusts) -> Result<TrustRegister, String> {
    let id_ok = |id: &str| {
        !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let mut rhfs = Vec::new();
    for r in r.rhf {
        if !id_ok(&r.id) {
            return Err(format!(
                "rhf «{}»: id må være små bokstaver, sifre og bindestrek",
                r.id
            ));
        }
        if !valid_org_nr(&r.org_nr) {
            return Err(format!(
                "rhf {}: org_nr «{}» er ikke et gyldig organisasjonsnummer (ni sifre, kontrollsiffer)",
                r.id, r.org_nr
            ));
        }
        if rhfs.iter().any(|x: &Rhf| x.id == r.id) {
            return Err(format!("rhf {} står to ganger", r.id));
        }
        rhfs.push(Rhf {
            id: r.id,
            name: r.name,
            org_nr: r.org_nr,
        });
    }
    if rhfs.is_empty() {
        return Err("registeret har ingen RHF ([[period.rhf]])".into());
    }
    let mut trusts: Vec<Trust> = Vec::new();
    let mut by_municipality = BTreeMap::new();
    for t in r.trust {
        if !id_ok(&t.id) {
            return Err(format!(
                "trust «{}»: id må være små bokstaver, sifre og bindestrek",
                t.id
            ));
        }
        if trusts
            .iter()
            .any(|x| x.id == t.id || x.name.eq_ignore_ascii_case(&t.name))
        {
            return Err(format!("trust {} står to ganger", t.id));
        }
        if !rhfs.iter().any(|x| x.id == t.rhf) {
            return Err(format!(
                "trust {}: rhf «{}» finnes ikke i registeret",
                t.id, t.rhf
            ));
        }
        if !valid_org_nr(&t.org_nr) {
            return Err(format!(
                "trust {}: org_nr «{}» er ikke et gyldig organisasjonsnummer (ni sifre, kontrollsiffer)",
                t.id, t.org_nr
            ));
        }
        for m in &t.municipalities {
            if m.len() != 4 || !m.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "trust {}: kommunenummer «{m}» er ikke fire sifre",
                    t.id
                ));
            }
            if let Some(&other) = by_municipality.get(m) {
                let other: &Trust = &trusts[other];
                return Err(format!(
                    "kommune {m} står både hos {} og {}",
                    other.id, t.id
                ));
            }
            by_municipality.insert(m.clone(), trusts.len());
        }
        let invoice_address = t
            .invoice_address
            .unwrap_or_else(|| format!("EHF/PEPPOL 0192:{}", t.org_nr));
        trusts.push(Trust {
            id: t.id,
            name: t.name,
            rhf: t.rhf,
            org_nr: t.org_nr,
            invoice_address,
            municipalities: t.municipalities,
        });
    }
    Ok(TrustRegister {
        rhfs,
        trusts,
        unconfirmed: r.unconfirmed,
        by_municipality,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_numbers_carry_a_mod_11_check_digit() {
        assert!(valid_org_nr("983974724"));
        assert!(!valid_org_nr("983974725"));
        assert!(!valid_org_nr("98397472"));
        assert!(!valid_org_nr("98397472x"));
    }
}
