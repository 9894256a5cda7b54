//! Look-ups in a loaded catalogue: by varenummer (exact), ATC prefix, and words of the name or
//! substance. Built once per snapshot; each look-up is a scan of precomputed lowercase keys or
//! a map lookup (well under a millisecond for a full catalogue, see BENCHMARKS.md).

use std::collections::HashMap;

use crate::model::{Catalogue, Package};

/// One hit: a package with its product's name and what matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Varenummer.
    pub varenr: String,
    /// Package id.
    pub package_id: String,
    /// Product id.
    pub product_id: String,
    /// Name, form and strength.
    pub name: String,
    /// Brand.
    pub brand: String,
    /// ATC code.
    pub atc: String,
    /// Substance names.
    pub substances: String,
    /// Package size.
    pub size: String,
    /// Prescription group.
    pub prescription_group: String,
    /// Retail price (AUP) in øre.
    pub price_ore: Option<u64>,
}

/// The look-up index of one catalogue.
pub struct Index {
    hits: Vec<Hit>,
    /// Lowercase "name brand substances atc varenr" per hit.
    keys: Vec<String>,
    by_varenr: HashMap<String, usize>,
    /// ATC code → Norwegian name (7180), with the groups above each code.
    atc_names: HashMap<String, String>,
}

impl Index {
    /// Builds the index.
    pub fn new(cat: &Catalogue) -> Index {
        let products: HashMap<&str, &crate::model::Product> =
            cat.products.iter().map(|p| (p.id.as_str(), p)).collect();
        let strengths: HashMap<&str, &str> = cat
            .strengths
            .iter()
            .map(|s| (s.id.as_str(), s.substance.as_str()))
            .collect();
        let substances: HashMap<&str, &str> = cat
            .substances
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_str()))
            .collect();
        let mut hits = Vec::with_capacity(cat.packages.len());
        let mut keys = Vec::with_capacity(cat.packages.len());
        let mut by_varenr = HashMap::with_capacity(cat.packages.len());
        for p in &cat.packages {
            let product = products.get(p.product.as_str());
            let names: Vec<&str> = product
                .map(|pr| {
                    pr.substances
                        .iter()
                        .filter_map(|s| {
                            substances
                                .get(strengths.get(s.as_str()).copied().unwrap_or(s.as_str()))
                                .copied()
                        })
                        .collect()
                })
                .unwrap_or_default();
            let hit = hit(p, product.copied(), names.join(", "));
            // The varenummer is not in the words: it is found exactly, or by a prefix of digits.
            keys.push(
                format!(" {} {} {} {}", hit.name, hit.brand, hit.substances, hit.atc)
                    .to_lowercase(),
            );
            by_varenr.insert(hit.varenr.clone(), hits.len());
            hits.push(hit);
        }
        let atc_names = cat
            .code_systems
            .iter()
            .filter(|c| c.oid == crate::model::ATC_OID)
            .flat_map(|c| c.elements.iter().map(|e| (e.code.clone(), e.term.clone())))
            .collect();
        Index {
            hits,
            keys,
            by_varenr,
            atc_names,
        }
    }

    /// The package with this varenummer.
    pub fn varenr(&self, varenr: &str) -> Option<&Hit> {
        self.by_varenr.get(varenr.trim()).map(|&i| &self.hits[i])
    }

    /// Up to `limit` packages matching every word of `query` at the start of a word of the
    /// name, brand, substance or ATC code (so `C08` finds the group, `amlo` the substance), in
    /// catalogue order; a query of digits is a varenummer (exact, or its prefix).
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Hit> {
        if limit == 0 {
            return Vec::new();
        }
        self.matching(query).take(limit).collect()
    }

    /// How many packages [`search`](Self::search) would find without a limit: a page that
    /// shows the first hundred says how many there are in all.
    pub fn count(&self, query: &str) -> usize {
        self.matching(query).count()
    }

    fn matching<'a>(&'a self, query: &str) -> Box<dyn Iterator<Item = &'a Hit> + 'a> {
        let query = query.trim();
        if query.is_empty() {
            return Box::new(std::iter::empty());
        }
        if query.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(h) = self.varenr(query) {
                return Box::new(std::iter::once(h));
            }
            let prefix = query.to_string();
            return Box::new(
                self.hits
                    .iter()
                    .filter(move |h| h.varenr.starts_with(prefix.as_str())),
            );
        }
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| format!(" {}", w.to_lowercase()))
            .collect();
        Box::new(
            self.keys
                .iter()
                .enumerate()
                .filter(move |(_, key)| words.iter().all(|w| key.contains(w.as_str())))
                .map(|(i, _)| &self.hits[i]),
        )
    }

    /// The ATC code's Norwegian name and those of the groups above it, top first.
    pub fn atc_path(&self, code: &str) -> Vec<(String, String)> {
        [1, 3, 4, 5, 7]
            .iter()
            .filter(|&&len| len <= code.len())
            .map(|&len| {
                let c = &code[..len];
                (
                    c.to_string(),
                    self.atc_names.get(c).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The groups one level below `code` in the ATC tree (the anatomical main groups for an
    /// empty code), with their Norwegian names and how many packages each holds.
    pub fn atc_children(&self, code: &str) -> Vec<(String, String, usize)> {
        let levels = [1usize, 3, 4, 5, 7];
        let Some(&next) = levels.iter().find(|&&l| l > code.len()) else {
            return Vec::new();
        };
        let mut children: Vec<(String, String, usize)> = Vec::new();
        for h in &self.hits {
            if h.atc.len() < next || !h.atc.starts_with(code) {
                continue;
            }
            let child = &h.atc[..next];
            match children.iter_mut().find(|(c, _, _)| c == child) {
                Some(entry) => entry.2 += 1,
                None => children.push((
                    child.to_string(),
                    self.atc_names.get(child).cloned().unwrap_or_default(),
                    1,
                )),
            }
        }
        children.sort();
        children
    }

    /// Packages with exactly this ATC code.
    pub fn with_atc(&self, code: &str) -> Vec<&Hit> {
        self.hits.iter().filter(|h| h.atc == code).collect()
    }

    /// Number of packages indexed.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether the catalogue has no packages.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }
}

fn hit(p: &Package, product: Option<&crate::model::Product>, substances: String) -> Hit {
    Hit {
        varenr: p.varenr.clone(),
        package_id: p.id.clone(),
        product_id: p.product.clone(),
        name: p.medicine.name_form_strength.clone(),
        brand: product.map(|pr| pr.brand.clone()).unwrap_or_default(),
        atc: p
            .medicine
            .atc
            .as_ref()
            .map(|a| a.code.clone())
            .unwrap_or_default(),
        substances,
        size: p.size.clone(),
        prescription_group: p.medicine.prescription_group.clone(),
        price_ore: p.price_ore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        let mut bytes = Vec::new();
        crate::generate::write(
            &mut bytes,
            &crate::generate::Options {
                packages: 400,
                ..Default::default()
            },
        )
        .unwrap();
        Index::new(&crate::parse(&bytes[..], |_| {}).unwrap())
    }

    #[test]
    fn look_ups_by_name_substance_atc_and_varenummer() {
        let ix = index();
        assert_eq!(ix.search("100005", 10)[0].varenr, "100005");
        assert!(
            ix.search("1000", 50)
                .iter()
                .all(|h| h.varenr.starts_with("1000"))
        );
        let amlo = ix.search("amlodipin 10", 50);
        assert!(
            !amlo.is_empty()
                && amlo
                    .iter()
                    .all(|h| h.substances == "amlodipin" && h.name.contains(" 10 ")),
            "{amlo:?}"
        );
        assert!(
            ix.search("c08", 50)
                .iter()
                .all(|h| h.atc.starts_with("C08"))
        );
        assert!(ix.search("norvasc", 5).iter().all(|h| h.brand == "Norvasc"));
        assert!(ix.search("finnesikke", 5).is_empty());
        assert_eq!(ix.count("finnesikke"), 0);
        assert_eq!(ix.count("c08"), ix.search("c08", 1000).len());
        assert!(ix.count("c08") > 1);
        let path = ix.atc_path("C08CA01");
        assert_eq!(path[0], ("C".to_string(), "Hjerte og kretsløp".to_string()));
        assert_eq!(path[4].1, "amlodipin");
        let roots = ix.atc_children("");
        assert!(
            roots
                .iter()
                .any(|(c, n, count)| c == "C" && n == "Hjerte og kretsløp" && *count > 0)
        );
        let c08 = ix.atc_children("C08");
        assert_eq!(c08[0].0, "C08C");
        assert_eq!(ix.atc_children("C08CA01"), vec![]);
        assert!(ix.with_atc("C08CA01").iter().all(|h| h.atc == "C08CA01"));
    }
}
