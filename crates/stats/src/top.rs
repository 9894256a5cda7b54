//! Tables 2 and 4 of seed 003: the most used unregistered medicines for human use, per ATC code
//! and substance — dispensings, packages and the sum of DDD (Σ packages × DDD per package; "-"
//! where no DDD is defined) — sorted by packages. Marks: `*` the marketed product is in
//! shortage, `**` it is deregistered or temporarily out.

use std::collections::{BTreeMap, BTreeSet};

use crate::{MilliPackages, Record, Species};

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct TopRow {
    /// ATC code.
    pub atc: String,
    /// Substance.
    pub substance: String,
    /// Dispensings.
    pub dispensings: u64,
    /// Packages, in thousandths.
    pub packages: MilliPackages,
    /// Σ packages × DDD per package; `None` when no dispensing of the line has a DDD.
    pub ddd: Option<f64>,
    /// `*` or `**`, when a marks list names the line.
    pub mark: Option<Mark>,
}

/// Why a line is marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// `*`: shortage of the marketed product.
    Shortage,
    /// `**`: the marketed product is deregistered or temporarily out.
    Deregistered,
}

impl Mark {
    /// As printed.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Shortage => "*",
            Mark::Deregistered => "**",
        }
    }
}

/// Which table: seed 003 reports human use by packages (tables 2 and 4) and veterinary use by
/// dispensings, ATCvet codes (`Q…`, table 6) apart from human codes dispensed for animals
/// (table 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    /// Human use, sorted by packages.
    #[default]
    Human,
    /// Veterinary use of ATCvet codes, sorted by dispensings.
    VetAtcVet,
    /// Veterinary use of human codes, sorted by dispensings.
    VetHumanCode,
}

/// The table being summed, one record at a time: memory grows with the number of (ATC,
/// substance) lines, not with the records — a year of a nation's dispensings streams through.
#[derive(Clone, Debug, Default)]
pub struct TopTable {
    year: i32,
    selection: Selection,
    /// ATC code → substance → (dispensings, packages, Σ DDD, any DDD): looked up by borrowed
    /// text, so a line that adds to a known line allocates nothing.
    lines: std::collections::HashMap<String, std::collections::HashMap<String, Line>>,
}

type Line = (u64, MilliPackages, f64, bool);

impl TopTable {
    /// An empty table of human use for `year`.
    pub fn new(year: i32) -> TopTable {
        TopTable::of(year, Selection::Human)
    }

    /// An empty table of `selection` for `year`.
    pub fn of(year: i32, selection: Selection) -> TopTable {
        TopTable {
            year,
            selection,
            lines: std::collections::HashMap::new(),
        }
    }

    /// Counts `r` if it belongs: without MT, dispensed in the year, of the table's kind (a
    /// veterinary dispensing of a human code is table 7's, not table 2's).
    pub fn add(&mut self, r: &Record) {
        self.add_ref(&r.as_ref());
    }

    /// The same for a borrowed record.
    pub fn add_ref(&mut self, r: &crate::read::RecordRef<'_>) {
        if !(r.unregistered && self.takes(r.species, &r.atc) && r.date.year() == self.year) {
            return;
        }
        self.add_line(
            &r.atc,
            r.substance,
            1,
            r.packages,
            r.ddd_per_package
                .map(|ddd| r.packages as f64 / 1000.0 * ddd),
        );
    }

    /// The table's year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Whether a dispensing for `species` of `atc` is of the table's kind (a veterinary
    /// dispensing of a human code is table 7's, not table 2's).
    pub fn takes(&self, species: Species, atc: &str) -> bool {
        match self.selection {
            Selection::Human => species == Species::Human,
            Selection::VetAtcVet => species == Species::Vet && atc.starts_with('Q'),
            Selection::VetHumanCode => species == Species::Vet && !atc.starts_with('Q'),
        }
    }

    /// Adds sums already made for one line (a columnar reader sums by dictionary index first):
    /// `ddd` is Σ packages × DDD per package over the dispensings that have a DDD, if any has.
    pub fn add_line(
        &mut self,
        atc: &str,
        substance: &str,
        dispensings: u64,
        packages: MilliPackages,
        ddd: Option<f64>,
    ) {
        let by_atc = match self.lines.get_mut(atc) {
            Some(m) => m,
            None => self.lines.entry(atc.to_string()).or_default(),
        };
        let e = match by_atc.get_mut(substance) {
            Some(e) => e,
            None => by_atc.entry(substance.to_string()).or_default(),
        };
        e.0 += dispensings;
        e.1 += packages;
        if let Some(ddd) = ddd {
            e.2 += ddd;
            e.3 = true;
        }
    }

    /// Adds another table's lines (of the same year and kind) to this one: a file read in
    /// parts, one per core.
    pub fn merge(&mut self, other: TopTable) {
        for (atc, by) in other.lines {
            let mine = self.lines.entry(atc).or_default();
            for (substance, (d, p, x, any)) in by {
                let e = mine.entry(substance).or_default();
                e.0 += d;
                e.1 += p;
                e.2 += x;
                e.3 |= any;
            }
        }
    }

    /// The top `limit` lines, sorted by packages, then dispensings, then ATC code and substance
    /// (so ties always come out in the same order). `marks` names lines by ATC code.
    pub fn rows(&self, limit: usize, marks: &BTreeMap<String, Mark>) -> Vec<TopRow> {
        let mut rows: Vec<TopRow> = self
            .lines
            .iter()
            .flat_map(|(atc, by)| {
                by.iter()
                    .map(move |(substance, line)| (atc, substance, line))
            })
            .map(
                |(atc, substance, (dispensings, packages, ddd, any))| TopRow {
                    mark: marks.get(atc).copied(),
                    atc: atc.clone(),
                    substance: substance.clone(),
                    dispensings: *dispensings,
                    packages: *packages,
                    ddd: any.then_some(*ddd),
                },
            )
            .collect();
        let by_dispensings = self.selection != Selection::Human;
        rows.sort_by(|a, b| {
            let (first, second) = if by_dispensings {
                (
                    b.dispensings.cmp(&a.dispensings),
                    b.packages.cmp(&a.packages),
                )
            } else {
                (
                    b.packages.cmp(&a.packages),
                    b.dispensings.cmp(&a.dispensings),
                )
            };
            first
                .then(second)
                .then(a.atc.cmp(&b.atc))
                .then(a.substance.cmp(&b.substance))
        });
        rows.truncate(limit);
        rows
    }
}

/// The top `limit` lines of `year` over `records` (see [`TopTable`]).
pub fn top(
    records: &[Record],
    year: i32,
    limit: usize,
    marks: &BTreeMap<String, Mark>,
) -> Vec<TopRow> {
    let mut t = TopTable::new(year);
    records.iter().for_each(|r| t.add(r));
    t.rows(limit, marks)
}

/// Packages as printed: whole numbers without decimals, fractions with up to three.
pub fn packages_text(p: MilliPackages) -> String {
    if p % 1000 == 0 {
        (p / 1000).to_string()
    } else {
        let s = format!("{}.{:03}", p / 1000, (p % 1000).abs());
        s.trim_end_matches('0').to_string()
    }
}

/// The table as CSV: `atc,substance,dispensings,packages,ddd`, and a `mark` column only when a
/// marks list was given (`with_marks`).
pub fn csv(rows: &[TopRow], with_marks: bool) -> String {
    let mut out = String::from("atc,substance,dispensings,packages,ddd");
    if with_marks {
        out.push_str(",mark");
    }
    out.push('\n');
    for r in rows {
        let field = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        out.push_str(&format!(
            "{},{},{},{},{}",
            field(&r.atc),
            field(&r.substance),
            r.dispensings,
            packages_text(r.packages),
            r.ddd.map_or("-".to_string(), |d| format!("{d:.1}"))
        ));
        if with_marks {
            out.push(',');
            out.push_str(r.mark.map_or("", Mark::symbol));
        }
        out.push('\n');
    }
    out
}

/// Distinct varenumre without MT dispensed in `year`, per species (seed 003: 1,699 human and 229
/// veterinary in 2024).
pub fn distinct_varenr(records: &[Record], year: i32) -> BTreeMap<Species, usize> {
    let mut seen: BTreeMap<Species, BTreeSet<&str>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.unregistered && r.date.year() == year)
    {
        seen.entry(r.species).or_default().insert(&r.varenr);
    }
    seen.into_iter().map(|(s, v)| (s, v.len())).collect()
}

/// Distinct varenumre without MT per year and species, counted while streaming (the same as
/// [`distinct_varenr`], for files too large to hold).
#[derive(Clone, Debug, Default)]
pub struct VarenrCount {
    seen: BTreeMap<(i32, Species), BTreeSet<String>>,
}

impl VarenrCount {
    /// Counts `r`'s varenummer if it is without MT.
    pub fn add_ref(&mut self, r: &crate::read::RecordRef<'_>) {
        if r.unregistered {
            let set = self.seen.entry((r.date.year(), r.species)).or_default();
            if !set.contains(r.varenr) {
                set.insert(r.varenr.to_string());
            }
        }
    }

    /// Adds another part's.
    pub fn merge(&mut self, other: VarenrCount) {
        for (k, v) in other.seen {
            self.seen.entry(k).or_default().extend(v);
        }
    }

    /// The count for `year` and `species`.
    pub fn count(&self, year: i32, species: Species) -> usize {
        self.seen.get(&(year, species)).map_or(0, BTreeSet::len)
    }

    /// `year,human,vet` for each year from `from` to `to`.
    pub fn csv(&self, from: i32, to: i32) -> String {
        let mut out = String::from("year,human,vet\n");
        for y in from..=to {
            out.push_str(&format!(
                "{y},{},{}\n",
                self.count(y, Species::Human),
                self.count(y, Species::Vet)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Date;

    fn rec(date: &str, atc: &str, substance: &str, milli: i64, ddd: Option<f64>) -> Record {
        Record {
            date: Date::parse(date).unwrap(),
            patient: "p1".into(),
            varenr: "012345".into(),
            atc: atc.into(),
            substance: substance.into(),
            packages: milli,
            ddd_per_package: ddd,
            unregistered: true,
            species: Species::Human,
        }
    }

    #[test]
    fn lines_sum_by_atc_and_substance_and_sort_by_packages_with_ties_in_a_fixed_order() {
        let records = vec![
            rec("2024-03-01", "N05CH01", "melatonin", 2000, Some(30.0)),
            rec("2024-03-02", "N05CH01", "melatonin", 1500, Some(30.0)),
            // A tie on packages with B: broken by dispensings, then by ATC code.
            rec("2024-04-01", "A12", "mineraler", 3500, None),
            rec("2024-04-01", "B03", "jern", 1000, None),
            rec("2024-04-02", "B03", "jern", 2500, None),
            // Other years, registered, vet: not counted.
            rec("2023-12-31", "N05CH01", "melatonin", 9000, Some(30.0)),
            Record {
                unregistered: false,
                ..rec("2024-05-01", "N05CH01", "melatonin", 9000, None)
            },
            Record {
                species: Species::Vet,
                ..rec("2024-05-01", "N05CH01", "melatonin", 9000, None)
            },
        ];
        let marks = BTreeMap::from([("A12".to_string(), Mark::Shortage)]);
        let rows = top(&records, 2024, 10, &marks);
        let order: Vec<&str> = rows.iter().map(|r| r.atc.as_str()).collect();
        assert_eq!(
            order,
            ["B03", "N05CH01", "A12"],
            "3.5 each: 2 dispensings before 1, then by code"
        );
        assert_eq!(rows[1].ddd, Some(105.0), "3.5 packages × 30 DDD");
        assert_eq!(rows[0].ddd, None);
        let text = csv(&rows, true);
        assert_eq!(
            text,
            "atc,substance,dispensings,packages,ddd,mark\n\
             B03,jern,2,3.5,-,\n\
             N05CH01,melatonin,2,3.5,105.0,\n\
             A12,mineraler,1,3.5,-,*\n"
        );
        assert!(
            !csv(&rows, false).contains("mark"),
            "no mark column without a marks list"
        );
        assert_eq!(top(&records, 2024, 1, &marks).len(), 1);
    }

    #[test]
    fn vet_tables_take_atcvet_codes_and_human_codes_apart_by_dispensings() {
        let vet = |atc: &str, substance: &str, milli| Record {
            species: Species::Vet,
            ..rec("2024-02-02", atc, substance, milli, None)
        };
        let records = [
            vet("QP52AA01", "praziquantel", 1000),
            vet("QP52AA01", "praziquantel", 1000),
            vet("QJ01CA04", "amoksicillin", 9000),
            vet("N05CH01", "melatonin", 500),
            rec("2024-02-02", "N05CH01", "melatonin", 5000, None),
        ];
        let t6 = |s| {
            let mut t = TopTable::of(2024, s);
            records.iter().for_each(|r| t.add(r));
            t.rows(10, &BTreeMap::new())
        };
        let rows = t6(Selection::VetAtcVet);
        assert_eq!(
            rows[0].atc, "QP52AA01",
            "two dispensings before one, whatever the packages"
        );
        let human_codes = t6(Selection::VetHumanCode);
        assert_eq!(
            (human_codes.len(), human_codes[0].packages),
            (1, 500),
            "the vet row, not the human one"
        );
    }

    #[test]
    fn distinct_varenumre_per_species() {
        let mut v = rec("2024-01-01", "QP52", "x", 1000, None);
        v.species = Species::Vet;
        let mut other = rec("2024-02-01", "N05CH01", "melatonin", 1000, None);
        other.varenr = "000017".into();
        let records = vec![
            rec("2024-01-01", "N05CH01", "melatonin", 1000, None),
            other.clone(),
            other,
            v,
        ];
        let counts = distinct_varenr(&records, 2024);
        assert_eq!(counts[&Species::Human], 2);
        assert_eq!(counts[&Species::Vet], 1);
    }

    #[test]
    fn the_streaming_varenr_count_agrees_with_the_plain_one_and_merges() {
        let mut a = rec("2024-01-02", "N05CH01", "melatonin", 1000, None);
        let mut b = a.clone();
        b.varenr = "000042".into();
        let c = rec("2025-01-01", "N05CH01", "melatonin", 1000, None);
        let mut d = a.clone();
        d.unregistered = false;
        d.varenr = "999999".into();
        a.species = Species::Human;
        let all = [a.clone(), b.clone(), c.clone(), d.clone(), a.clone()];
        let mut left = VarenrCount::default();
        let mut right = VarenrCount::default();
        for (i, r) in all.iter().enumerate() {
            if i % 2 == 0 {
                left.add_ref(&r.as_ref())
            } else {
                right.add_ref(&r.as_ref())
            }
        }
        left.merge(right);
        let plain = distinct_varenr(&all, 2024);
        assert_eq!(left.count(2024, Species::Human), plain[&Species::Human]);
        assert_eq!(left.count(2024, Species::Human), 2);
        assert_eq!(left.csv(2024, 2025), "year,human,vet\n2024,2,0\n2025,1,0\n");
    }
}
