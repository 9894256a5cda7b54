//! **O4** — the overviews the trusts are told to keep: the cost of approved off-label treatment
//! (per trust, clinic and period), how many patients get trial treatment outside studies and
//! of which kind, and the applications by state and age. Pure tables over plain rows; the
//! service reads the rows and writes CSV or XLSX.

use std::collections::BTreeMap;

use domain::{Date, Ore};

/// One case, as the overviews need it.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRow {
    /// `off_label` or `helfo`.
    pub kind: String,
    /// State code.
    pub state: String,
    /// State in bokmål.
    pub state_text: String,
    /// The treating trust (off-label).
    pub trust: Option<String>,
    /// The clinic (off-label).
    pub clinic: Option<String>,
    /// Off-label / off-licence (off-label cases).
    pub use_kind: Option<String>,
    /// Patient or group (off-label cases).
    pub scope: Option<String>,
    /// Patients covered (1, or the group's yearly number).
    pub patients: u32,
    /// Estimated yearly cost (off-label).
    pub cost: Ore,
    /// Created.
    pub created: Date,
    /// Approved (final approval), if approved.
    pub approved: Option<Date>,
}

/// How approvals are grouped in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl Granularity {
    /// From `month`, `quarter` or `year`.
    pub fn from_code(code: &str) -> Option<Granularity> {
        match code {
            "month" => Some(Granularity::Month),
            "quarter" => Some(Granularity::Quarter),
            "year" => Some(Granularity::Year),
            _ => None,
        }
    }

    fn label(self, d: Date) -> String {
        match self {
            Granularity::Month => format!("{}-{:02}", d.year(), d.month()),
            Granularity::Quarter => format!("{}-K{}", d.year(), (d.month() - 1) / 3 + 1),
            Granularity::Year => d.year().to_string(),
        }
    }
}

/// A table: a title, column headings and rows of cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The title.
    pub title: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
}

/// A cell: text, a count, or money (kept as øre; written as kroner).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count.
    Count(u64),
    /// Money.
    Money(Ore),
    /// Money credited back (a correction after settlement): shown as a negative amount.
    Credit(Ore),
}

impl Cell {
    /// As text (money in kroner with two decimals, point as separator, for CSV).
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(o) => format!("{}.{:02}", o.0 / 100, o.0 % 100),
            Cell::Credit(o) => format!("-{}.{:02}", o.0 / 100, o.0 % 100),
        }
    }
}

/// Approved off-label treatment: number and estimated yearly cost per trust, clinic and period
/// of approval, approvals within `from..=to`. Sums are exact (øre).
pub fn approved_cost(rows: &[CaseRow], granularity: Granularity, from: Date, to: Date) -> Table {
    let mut groups: BTreeMap<(String, String, String), (u64, u64, Ore)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == "off_label") {
        let Some(approved) = r.approved.filter(|d| (from..=to).contains(d)) else {
            continue;
        };
        let key = (
            r.trust.clone().unwrap_or_default(),
            r.clinic.clone().unwrap_or_default(),
            granularity.label(approved),
        );
        let g = groups.entry(key).or_insert((0, 0, Ore(0)));
        g.0 += 1;
        g.1 += u64::from(r.patients);
        g.2 = Ore(g.2.0 + r.cost.0);
    }
    Table {
        title: format!("Godkjent off-label-behandling og anslått kostnad, {from} – {to}"),
        columns: [
            "helseforetak",
            "klinikk",
            "periode",
            "vedtak",
            "pasienter",
            "anslått kostnad (kr)",
        ]
        .map(String::from)
        .to_vec(),
        rows: groups
            .into_iter()
            .map(|((trust, clinic, period), (n, patients, cost))| {
                vec![
                    Cell::Text(trust),
                    Cell::Text(clinic),
                    Cell::Text(period),
                    Cell::Count(n),
                    Cell::Count(patients),
                    Cell::Money(cost),
                ]
            })
            .collect(),
    }
}

/// Patients on trial treatment outside clinical studies now (approved, not stopped), by kind
/// (off-label / off-licence) and scope (patient / group), per trust.
pub fn patients_on_trial_treatment(rows: &[CaseRow]) -> Table {
    let mut groups: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.kind == "off_label" && r.state == "approved")
    {
        let key = (
            r.trust.clone().unwrap_or_default(),
            r.use_kind.clone().unwrap_or_default(),
            r.scope.clone().unwrap_or_default(),
        );
        let g = groups.entry(key).or_insert((0, 0));
        g.0 += 1;
        g.1 += u64::from(r.patients);
    }
    Table {
        title: "Pasienter på utprøvende behandling utenfor kliniske studier".into(),
        columns: ["helseforetak", "type", "omfang", "vedtak", "pasienter"]
            .map(String::from)
            .to_vec(),
        rows: groups
            .into_iter()
            .map(|((trust, kind, scope), (n, patients))| {
                vec![
                    Cell::Text(trust),
                    Cell::Text(kind),
                    Cell::Text(scope),
                    Cell::Count(n),
                    Cell::Count(patients),
                ]
            })
            .collect(),
    }
}

/// The age bands applications are counted in.
const AGE_BANDS: [(i64, &str); 4] = [
    (7, "under 7 dager"),
    (30, "7–29 dager"),
    (90, "30–89 dager"),
    (i64::MAX, "90 dager eller mer"),
];

/// Applications by kind, state and age (days since created, on `today`).
pub fn applications_by_state_and_age(rows: &[CaseRow], today: Date) -> Table {
    let mut groups: BTreeMap<(String, String, usize), u64> = BTreeMap::new();
    for r in rows {
        let age = today.days_since(r.created).max(0);
        let band = AGE_BANDS
            .iter()
            .position(|(below, _)| age < *below)
            .unwrap_or(3);
        *groups
            .entry((r.kind.clone(), r.state_text.clone(), band))
            .or_default() += 1;
    }
    Table {
        title: format!("Søknader etter status og alder per {today}"),
        columns: ["sakstype", "status", "alder", "antall"]
            .map(String::from)
            .to_vec(),
        rows: groups
            .into_iter()
            .map(|((kind, state, band), n)| {
                vec![
                    Cell::Text(if kind == "helfo" {
                        "§ 3-søknad til Helfo".into()
                    } else {
                        "off-label (HF)".into()
                    }),
                    Cell::Text(state),
                    Cell::Text(AGE_BANDS[band].1.into()),
                    Cell::Count(n),
                ]
            })
            .collect(),
    }
}

/// A text cell made safe for a spreadsheet: one that starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return would be run as a formula when the file is opened (CSV injection; a
/// trust or clinic name is typed by people), so it is prefixed with `'`, which spreadsheets
/// show as text.
pub fn neutralize(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The table as CSV (RFC 4180: comma, quotes doubled, CRLF), text cells [`neutralize`]d.
pub fn csv(table: &Table) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    line(
        table.columns.iter().map(|c| neutralize(c)).collect(),
        &mut out,
    );
    for row in &table.rows {
        let cells = row
            .iter()
            .map(|c| match c {
                Cell::Text(t) => neutralize(t),
                other => other.plain(),
            })
            .collect();
        line(cells, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn row(trust: &str, state: &str, cost: u64, approved: Option<&str>) -> CaseRow {
        CaseRow {
            kind: "off_label".into(),
            state: state.into(),
            state_text: state.into(),
            trust: Some(trust.into()),
            clinic: Some("Kreft".into()),
            use_kind: Some("off_label".into()),
            scope: Some("patient".into()),
            patients: 1,
            cost: Ore(cost),
            created: day("2026-01-10"),
            approved: approved.map(day),
        }
    }

    #[test]
    fn o4_costs_are_summed_exactly_per_trust_clinic_and_period() {
        let rows = [
            row("OUS", "approved", 10_050, Some("2026-02-01")),
            row("OUS", "stopped", 20_001, Some("2026-03-31")),
            row("OUS", "approved", 1, Some("2026-04-01")),
            row("OUS", "submitted", 99_999, None),
        ];
        let t = approved_cost(
            &rows,
            Granularity::Quarter,
            day("2026-01-01"),
            day("2026-12-31"),
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][2], Cell::Text("2026-K1".into()));
        assert_eq!(t.rows[0][5], Cell::Money(Ore(30_051)));
        let total: u64 = t
            .rows
            .iter()
            .map(|r| match r[5] {
                Cell::Money(o) => o.0,
                _ => 0,
            })
            .sum();
        assert_eq!(total, 30_052, "money is conserved");
        assert!(csv(&t).contains("300.51"));
    }

    #[test]
    fn o4_trial_patients_and_application_ages() {
        let rows = [
            row("OUS", "approved", 1, Some("2026-02-01")),
            row("OUS", "stopped", 1, Some("2026-02-01")),
        ];
        assert_eq!(patients_on_trial_treatment(&rows).rows.len(), 1);
        let t = applications_by_state_and_age(&rows, day("2026-03-01"));
        assert_eq!(t.rows[0][2], Cell::Text("30–89 dager".into()));
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table {
            title: String::new(),
            columns: vec!["a".into()],
            rows: vec![vec![Cell::Text("x, \"y\"".into())]],
        };
        assert_eq!(csv(&t), "a\r\n\"x, \"\"y\"\"\"\r\n");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralized() {
        for dangerous in [
            "=1+1",
            "+47",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\")",
        ] {
            let t = Table {
                title: String::new(),
                columns: vec!["a".into()],
                rows: vec![vec![Cell::Text(dangerous.into())]],
            };
            let body = csv(&t);
            let cell = body.lines().nth(1).unwrap().trim_start_matches('"');
            assert!(cell.starts_with('\''), "{dangerous:?} → {body:?}");
        }
        let t = Table {
            title: String::new(),
            columns: vec!["a".into()],
            rows: vec![vec![
                Cell::Text("Oslo universitetssykehus HF".into()),
                Cell::Count(3),
            ]],
        };
        assert_eq!(
            csv(&t).lines().nth(1),
            Some("Oslo universitetssykehus HF,3")
        );
    }
}
