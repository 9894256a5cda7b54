//! Small counts in published tables (table 3 of seed 003: patients per product per year): a count
//! of 1–4 is shown as `<5` (primary suppression), and — where the table also publishes totals —
//! further cells are hidden (secondary suppression) so that no total minus the visible cells, and
//! no difference between totals, gives a hidden cell back. A zero is shown: it reveals no one.
//!
//! The method is the classic one for additive tables: every row and every column, with its total,
//! is an equation; an equation with exactly one hidden member would give it away, so another
//! member is hidden — the smallest visible one that is not zero, a cell before the total — and
//! this is repeated until no equation has exactly one hidden member.

/// A cell as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// The count.
    Count(u64),
    /// 1–4, shown as `<5`.
    Small,
    /// Hidden so that a total does not reveal a small count (shown as `x`).
    Hidden,
}

impl Shown {
    /// As printed.
    pub fn text(self) -> String {
        match self {
            Shown::Count(n) => n.to_string(),
            Shown::Small => "<5".into(),
            Shown::Hidden => "x".into(),
        }
    }
}

/// A table of counts with row totals, column totals and the grand total, as published.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    /// The cells, row by row.
    pub cells: Vec<Vec<Shown>>,
    /// Each row's total.
    pub row_totals: Vec<Shown>,
    /// Each column's total.
    pub column_totals: Vec<Shown>,
    /// The grand total.
    pub total: Shown,
}

/// Suppresses `counts` (rows × columns, all rows the same length) and publishes it with totals
/// that are the sums of the rows and columns.
pub fn publish(counts: &[Vec<u64>]) -> Published {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    // The whole table as one grid: cells, then the row totals in column `cols`, the column
    // totals in row `rows`, the grand total in the corner.
    let mut value = vec![vec![0u64; cols + 1]; rows + 1];
    for (r, row) in counts.iter().enumerate() {
        for (c, n) in row.iter().enumerate().take(cols) {
            value[r][c] = *n;
            value[r][cols] += n;
            value[rows][c] += n;
            value[rows][cols] += n;
        }
    }
    let mut hidden = vec![vec![false; cols + 1]; rows + 1];
    for r in 0..=rows {
        for c in 0..=cols {
            hidden[r][c] = (1..5).contains(&value[r][c]);
        }
    }
    let small: Vec<Vec<bool>> = hidden.clone();
    // Each line: the members of one equation (its cells and its total).
    let mut lines: Vec<Vec<(usize, usize)>> = Vec::new();
    for r in 0..=rows {
        lines.push((0..=cols).map(|c| (r, c)).collect());
    }
    for c in 0..=cols {
        lines.push((0..=rows).map(|r| (r, c)).collect());
    }
    loop {
        let mut changed = false;
        for line in &lines {
            let hidden_count = line.iter().filter(|(r, c)| hidden[*r][*c]).count();
            if hidden_count != 1 {
                continue;
            }
            // The smallest visible non-zero member, cells before the total on a tie.
            let pick = line
                .iter()
                .filter(|(r, c)| !hidden[*r][*c] && value[*r][*c] > 0)
                .min_by_key(|(r, c)| (value[*r][*c], *r == rows || *c == cols));
            if let Some((r, c)) = pick {
                hidden[*r][*c] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let shown = |r: usize, c: usize| {
        if small[r][c] {
            Shown::Small
        } else if hidden[r][c] {
            Shown::Hidden
        } else {
            Shown::Count(value[r][c])
        }
    };
    Published {
        cells: (0..rows)
            .map(|r| (0..cols).map(|c| shown(r, c)).collect())
            .collect(),
        row_totals: (0..rows).map(|r| shown(r, cols)).collect(),
        column_totals: (0..cols).map(|c| shown(rows, c)).collect(),
        total: shown(rows, cols),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_of_one_to_four_show_as_under_five_and_zeros_show() {
        // Bediol and Bedrobinol, 2023–2024 (seed 003, tabell 3): 25 and <5, 19 and <5.
        let p = publish(&[vec![25, 19], vec![3, 2], vec![0, 0]]);
        assert_eq!(p.cells[1], vec![Shown::Small, Shown::Small]);
        assert_eq!(p.cells[2], vec![Shown::Count(0), Shown::Count(0)]);
        // Column 2023 would give its <5 back (28 − 25), so its smallest other member, the 25, is
        // hidden; row Bediol would then give the 25 back (44 − 19), so the 19 goes too — and
        // every line is left with two hidden members or none.
        assert_eq!(p.cells[0], vec![Shown::Hidden, Shown::Hidden]);
        assert_eq!(
            p.row_totals,
            vec![Shown::Count(44), Shown::Count(5), Shown::Count(0)]
        );
        assert_eq!(p.column_totals, vec![Shown::Count(28), Shown::Count(21)]);
        assert_eq!(p.total, Shown::Count(49));
    }

    fn reveals(p: &Published) -> bool {
        let hidden = |s: &Shown| !matches!(s, Shown::Count(_));
        let rows = p.cells.len();
        let cols = p.column_totals.len();
        let row_line = |r: usize| {
            p.cells[r]
                .iter()
                .chain([&p.row_totals[r]])
                .filter(|s| hidden(s))
                .count()
        };
        let col_line = |c: usize| {
            (0..rows)
                .map(|r| &p.cells[r][c])
                .chain([&p.column_totals[c]])
                .filter(|s| hidden(s))
                .count()
        };
        let total_line = p
            .column_totals
            .iter()
            .chain([&p.total])
            .filter(|s| hidden(s))
            .count();
        let total_col = p
            .row_totals
            .iter()
            .chain([&p.total])
            .filter(|s| hidden(s))
            .count();
        (0..rows).any(|r| row_line(r) == 1)
            || (0..cols).any(|c| col_line(c) == 1)
            || total_line == 1
            || total_col == 1
    }

    proptest! {
        /// No row, column or total line of a published table has exactly one hidden member, so
        /// no total or difference gives a hidden count back; every 1–4 is hidden; nothing over 4
        /// is shown as `<5`; and a shown count is the true one.
        #[test]
        fn no_line_gives_a_hidden_count_back(table in prop::collection::vec(prop::collection::vec(0u64..12, 1..6), 1..8)) {
            let cols = table[0].len();
            let table: Vec<Vec<u64>> = table.into_iter().map(|mut r| { r.resize(cols, 0); r }).collect();
            let p = publish(&table);
            prop_assert!(!reveals(&p), "{:?} → {:?}", table, p);
            for (r, row) in table.iter().enumerate() {
                for (c, n) in row.iter().enumerate() {
                    match p.cells[r][c] {
                        Shown::Small => prop_assert!((1..5).contains(n)),
                        Shown::Count(shown) => prop_assert!(shown == *n && !(1..5).contains(n)),
                        Shown::Hidden => prop_assert!(*n >= 5 || *n == 0),
                    }
                }
            }
        }
    }
}
