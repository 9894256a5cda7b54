//! Table 3 of seed 003: patients per product per year (the cannabis products), counted as
//! distinct pseudonymous patients, published with `<5` for 1–4 and secondary suppression
//! ([`crate::suppress::publish`]). The row and column sums are published too — sums of the
//! yearly counts (patient-years), not distinct patients over several years, and labelled so.

use std::collections::{BTreeMap, BTreeSet};

use crate::Record;
use crate::suppress::{Published, publish};

/// A product list as CSV `varenr,product` (a header line `varenr,product` may come first): the
/// varenummer of each listed package and the product it belongs to. A wrong line gives its
/// number (1-based) and what was expected.
pub fn product_list(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut list = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 && line.trim() == "varenr,product" || line.trim().is_empty() {
            continue;
        }
        let (varenr, product) = line
            .split_once(',')
            .ok_or_else(|| (i + 1, "ventet varenr,product".to_string()))?;
        let varenr = varenr.trim();
        if varenr.len() != 6 || !varenr.bytes().all(|b| b.is_ascii_digit()) {
            return Err((i + 1, format!("varenr: ventet seks sifre, fikk «{varenr}»")));
        }
        list.insert(
            varenr.to_string(),
            product.trim().trim_matches('"').to_string(),
        );
    }
    Ok(list)
}

/// Distinct patients per product and year, as the records come.
#[derive(Clone, Debug, Default)]
pub struct PatientsTable {
    /// varenummer → product name (the product list).
    products: BTreeMap<String, String>,
    seen: BTreeMap<(String, i32), BTreeSet<String>>,
}

impl PatientsTable {
    /// A table over the products of `products` (varenummer → product).
    pub fn new(products: BTreeMap<String, String>) -> PatientsTable {
        PatientsTable {
            products,
            seen: BTreeMap::new(),
        }
    }

    /// Counts `r`'s patient for its product and year, if its varenummer is a listed product.
    pub fn add(&mut self, r: &Record) {
        self.add_ref(&r.as_ref());
    }

    /// The same for a borrowed record.
    pub fn add_ref(&mut self, r: &crate::read::RecordRef<'_>) {
        if let Some(product) = self.products.get(r.varenr) {
            self.seen
                .entry((product.clone(), r.date.year()))
                .or_default()
                .insert(r.patient.to_string());
        }
    }

    /// Adds another part's patients (the same product list): a patient counted in both parts is
    /// counted once.
    pub fn merge(&mut self, other: PatientsTable) {
        for (key, patients) in other.seen {
            self.seen.entry(key).or_default().extend(patients);
        }
    }

    /// The published table for `years`: the products (every listed product, in name order), the
    /// years, and the suppressed counts with their sums.
    pub fn publish(&self, years: &[i32]) -> (Vec<String>, Published) {
        let products: BTreeSet<&String> = self.products.values().collect();
        let names: Vec<String> = products.into_iter().cloned().collect();
        let counts: Vec<Vec<u64>> = names
            .iter()
            .map(|p| {
                years
                    .iter()
                    .map(|y| {
                        self.seen
                            .get(&(p.clone(), *y))
                            .map_or(0, |s| s.len() as u64)
                    })
                    .collect()
            })
            .collect();
        (names, publish(&counts))
    }
}

/// The table as CSV: `product,<year>…,sum`, then the `sum` row.
pub fn csv(names: &[String], years: &[i32], p: &Published) -> String {
    let mut out = String::from("product");
    for y in years {
        out.push_str(&format!(",{y}"));
    }
    out.push_str(",sum\n");
    let quote = |s: &str| {
        if s.contains([',', '"']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for (name, (cells, total)) in names.iter().zip(p.cells.iter().zip(&p.row_totals)) {
        out.push_str(&quote(name));
        for c in cells {
            out.push(',');
            out.push_str(&c.text());
        }
        out.push(',');
        out.push_str(&total.text());
        out.push('\n');
    }
    out.push_str("sum");
    for c in &p.column_totals {
        out.push(',');
        out.push_str(&c.text());
    }
    out.push(',');
    out.push_str(&p.total.text());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Species;
    use domain::Date;

    fn rec(date: &str, patient: &str, varenr: &str) -> Record {
        Record {
            date: Date::parse(date).unwrap(),
            patient: patient.into(),
            varenr: varenr.into(),
            atc: "N02BG10".into(),
            substance: "cannabis".into(),
            packages: 1000,
            ddd_per_package: None,
            unregistered: true,
            species: Species::Human,
        }
    }

    #[test]
    fn distinct_patients_per_product_and_year_under_five_hidden() {
        let products = BTreeMap::from([
            ("000001".to_string(), "Bediol urtete".to_string()),
            ("000002".to_string(), "Bedrobinol urtete".to_string()),
        ]);
        let mut t = PatientsTable::new(products);
        // Bediol: 6 patients in 2023 (one of them twice), 5 in 2024; Bedrobinol: 2, then 0.
        for p in ["a", "b", "c", "d", "e", "f", "a"] {
            t.add(&rec("2023-05-01", p, "000001"));
        }
        for p in ["a", "b", "c", "d", "e"] {
            t.add(&rec("2024-05-01", p, "000001"));
        }
        for p in ["x", "y"] {
            t.add(&rec("2023-06-01", p, "000002"));
        }
        t.add(&rec("2023-06-01", "z", "999999")); // not a listed product
        let years = [2023, 2024];
        let (names, p) = t.publish(&years);
        // Bedrobinol 2023 is <5 (and so is its row sum). The 2023 column (6 + <5 = 8) would give
        // it back, so its smallest other member, Bediol's 6, is hidden; the sum column (11 + <5
        // = 13) likewise gives up the 11. Every line is left with two hidden members or none:
        // the 6 is 8 minus a count of 1–4, and no line pins it down.
        assert_eq!(
            csv(&names, &years, &p),
            "product,2023,2024,sum\n\
             Bediol urtete,x,5,x\n\
             Bedrobinol urtete,<5,0,<5\n\
             sum,8,5,13\n"
        );
    }
}
