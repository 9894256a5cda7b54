//! **E1–E4** at the edge: the stockpiles' ledger in the store joined with the rule data into
//! what a stockpile manager reads — coverage per substance and wholesaler against the
//! requirement, lots near expiry, a delivery picked first-expiry-first-out, and a supply stop
//! simulated. The arithmetic is the `stock` crate's; this module only gathers the data. The CLI
//! (`legemiddel stock …`) and the HTTP service (`/api/v1/stockpiles/…`, `/beredskap`) both call it.

use std::collections::BTreeMap;

use domain::{Atc, Date};
use ruleset::RuleSet;
use ruleset::stockpiles::StockpileRules;
use stock::coverage::{Holder, Simulation};
use stock::{Coverage, LotStock};
use store::stock_ledger::{LotBalance, LotKey, StockEventIn};
use store::{Store, StoreError};

/// One line of the coverage table: a substance (ATC code) at one wholesaler, or nationally.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverageLine {
    /// ATC code.
    pub atc: String,
    /// The wholesaler, or `None` for the national line.
    pub wholesaler: Option<String>,
    /// The covered group it falls under (rule data), if any.
    pub group: Option<String>,
    /// Coverage against the requirement (the requirement is zero where none applies).
    pub coverage: Coverage,
}

impl CoverageLine {
    /// `true` when a requirement applies and is not met.
    pub fn alert(&self) -> bool {
        self.group.is_some() && self.coverage.below_target()
    }
}

/// What the coverage page and `stock coverage` show.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The day.
    pub date: Date,
    /// Lines per substance and wholesaler, then the substance's national line.
    pub lines: Vec<CoverageLine>,
    /// Lots expiring within the rule data's window, soonest first.
    pub expiring: Vec<(LotKey, String, Date, i64)>,
    /// The window, in days.
    pub window_days: u32,
    /// Every lot with its balance, as the report read them (the page draws the expiry profile
    /// from these rather than reading the ledger a second time).
    pub lots: Vec<LotBalance>,
}

/// The coverage report as a table of the `cases` overview kind (CSV and XLSX share it).
pub fn coverage_table(r: &Report) -> cases::overview::Table {
    use cases::overview::Cell;
    let days = |d: Option<f64>| d.map_or("-".to_string(), |d| format!("{d:.0}"));
    cases::overview::Table {
        title: format!("Beredskapslager {}: dekning mot kravet (E1–E2)", r.date),
        columns: [
            "atc",
            "grossist",
            "gruppe",
            "beholdning",
            "salg_12_mnd",
            "dager",
            "krav_dager",
            "krav_pakninger",
            "mangler",
            "status",
        ]
        .map(String::from)
        .to_vec(),
        rows: r
            .lines
            .iter()
            .map(|l| {
                let c = &l.coverage;
                vec![
                    Cell::Text(l.atc.clone()),
                    Cell::Text(l.wholesaler.clone().unwrap_or_else(|| "nasjonalt".into())),
                    Cell::Text(l.group.clone().unwrap_or_default()),
                    Cell::Count(c.stock.max(0) as u64),
                    Cell::Count(c.yearly_sales.max(0) as u64),
                    Cell::Text(days(c.days)),
                    Cell::Text(format!("{:.0}", c.target_days)),
                    Cell::Count(c.target_packages.max(0) as u64),
                    Cell::Count(c.missing().max(0) as u64),
                    Cell::Text(
                        if l.group.is_none() {
                            "ikke omfattet"
                        } else if l.alert() {
                            "UNDER KRAV"
                        } else {
                            "ok"
                        }
                        .into(),
                    ),
                ]
            })
            .collect(),
    }
}

/// The rule data in force on `date`.
pub fn rules_on(rules: &RuleSet, date: Date) -> Result<&StockpileRules, String> {
    rules
        .stockpiles
        .at(date)
        .map(|r| &r.value)
        .map_err(|e| e.to_string())
}

/// Usable stock of a lot on `date`: nothing of a lot past its expiry.
fn usable(b: &LotBalance, date: Date) -> i64 {
    match Date::parse(&b.expiry) {
        Ok(expiry) if expiry >= date => b.balance.max(0),
        _ => 0,
    }
}

/// Coverage on `date`: the stock on hand against the last 365 days' sales and the requirement.
pub async fn report(store: &Store, rules: &RuleSet, date: Date) -> Result<Report, ReportError> {
    report_with(store, rules, date, None).await
}

/// Pharmacy sales from a file, the last 12 months summed: per ATC code, by wholesaler where the
/// file says which, otherwise nationally.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PharmacySales {
    /// `(atc, wholesaler)` → packages (fractions of packages summed, then rounded).
    pub by_wholesaler: BTreeMap<(String, String), f64>,
    /// `atc` → packages, for rows without a wholesaler.
    pub national: BTreeMap<String, f64>,
}

/// The sales the requirement is sized from: the ledger's own issues (the wholesalers' sales to
/// pharmacies), or pharmacy sales from a file (E1: «apotekenes salg … siste år»). National
/// rows are split among the wholesalers by their share of the ledger's issues of that ATC code
/// in the same 12 months (failing those, by their share of its stock) — a reading: a pharmacy
/// buys from a wholesaler, so that share is the best measure at hand of whose customers sold
/// what.
fn sales_from(
    ledger: &[store::stock_ledger::Sales],
    file: &PharmacySales,
    stock: &BTreeMap<(String, String), i64>,
) -> Vec<store::stock_ledger::Sales> {
    let mut out: BTreeMap<(String, String), f64> = file.by_wholesaler.clone();
    for (atc, packages) in &file.national {
        // Weights: each wholesaler's issues of the code; failing those, its stock of it.
        let mut weights: Vec<(String, f64)> = ledger
            .iter()
            .filter(|s| &s.atc == atc && s.packages > 0)
            .map(|s| (s.wholesaler.clone(), s.packages as f64))
            .collect();
        if weights.is_empty() {
            weights = stock
                .iter()
                .filter(|((a, _), n)| a == atc && **n > 0)
                .map(|((_, w), n)| (w.clone(), *n as f64))
                .collect();
        }
        let total: f64 = weights.iter().map(|w| w.1).sum();
        for (wholesaler, weight) in weights {
            *out.entry((atc.clone(), wholesaler)).or_default() += packages * weight / total;
        }
    }
    out.into_iter()
        .map(|((atc, wholesaler), p)| store::stock_ledger::Sales {
            wholesaler,
            atc,
            packages: p.round() as i64,
        })
        .collect()
}

/// The pharmacy side's own dispensings of the 365 days to `date`, as national pharmacy sales
/// (E1: «apotekenes salg»), split among the wholesalers as [`sales_from`] says.
pub async fn sales_from_dispensings(
    store: &Store,
    date: Date,
) -> Result<PharmacySales, ReportError> {
    let from = previous_year(date).unwrap_or(date);
    Ok(PharmacySales {
        by_wholesaler: BTreeMap::new(),
        national: store.dispensed_packages(from, date).await?,
    })
}

/// Coverage on `date`, with the requirement sized from `pharmacy_sales` when given (see
/// [`sales_from`]), otherwise from the ledger's issues.
pub async fn report_with(
    store: &Store,
    rules: &RuleSet,
    date: Date,
    pharmacy_sales: Option<&PharmacySales>,
) -> Result<Report, ReportError> {
    let e1 = rules_on(rules, date).map_err(ReportError::Rules)?;
    let balances = store.stock_balances(None, None).await?;
    let from = previous_year(date).unwrap_or(date);
    let ledger_sales = store.stock_sales(from, date).await?;
    let mut stock: BTreeMap<(String, String), i64> = BTreeMap::new();
    for b in &balances {
        *stock
            .entry((b.atc.clone(), b.key.wholesaler.clone()))
            .or_default() += usable(b, date);
    }
    let sales = match pharmacy_sales {
        Some(file) => sales_from(&ledger_sales, file, &stock),
        None => ledger_sales,
    };
    let mut sold: BTreeMap<(String, String), i64> = BTreeMap::new();
    for s in &sales {
        *sold
            .entry((s.atc.clone(), s.wholesaler.clone()))
            .or_default() += s.packages;
        stock
            .entry((s.atc.clone(), s.wholesaler.clone()))
            .or_default();
    }
    let mut lines = Vec::new();
    let mut national: BTreeMap<String, (i64, i64, i64, f64, Option<String>)> = BTreeMap::new();
    for ((atc, wholesaler), packages) in &stock {
        let yearly = sold
            .get(&(atc.clone(), wholesaler.clone()))
            .copied()
            .unwrap_or(0);
        let code = Atc::parse(atc).ok();
        let requirement = code.as_ref().and_then(|a| e1.requirement(wholesaler, a));
        let (req, group) = match requirement {
            Some((r, name)) => (r, Some(name)),
            None => (
                stock::Requirement {
                    emergency_days: 0.0,
                    ordinary_days: 0,
                },
                None,
            ),
        };
        let coverage = Coverage::new(*packages, yearly, &req);
        let n = national.entry(atc.clone()).or_insert((0, 0, 0, 0.0, None));
        n.0 += packages;
        n.1 += yearly;
        n.2 += coverage.target_packages;
        if group.is_some() {
            n.4.clone_from(&group);
        }
        lines.push(CoverageLine {
            atc: atc.clone(),
            wholesaler: Some(wholesaler.clone()),
            group,
            coverage,
        });
    }
    // The national line: the sum of the wholesalers' stocks, sales and requirements.
    let mut out = Vec::with_capacity(lines.len() + national.len());
    for (atc, (packages, yearly, target, _, group)) in national {
        out.extend(lines.iter().filter(|l| l.atc == atc).cloned());
        let mut coverage = Coverage::new(
            packages,
            yearly,
            &stock::Requirement {
                emergency_days: 0.0,
                ordinary_days: 0,
            },
        );
        coverage.target_packages = target;
        coverage.target_days = if yearly > 0 {
            target as f64 * 365.0 / yearly as f64
        } else {
            0.0
        };
        out.push(CoverageLine {
            atc,
            wholesaler: None,
            group,
            coverage,
        });
    }
    // Lots by row id, for the expiry alert (E3).
    let by_id: std::collections::HashMap<String, &LotBalance> =
        balances.iter().map(|b| (b.id.to_string(), b)).collect();
    let plain: Vec<LotStock> = balances
        .iter()
        .filter_map(|b| {
            Date::parse(&b.expiry).ok().map(|expiry| LotStock {
                lot: b.id.to_string(),
                expiry,
                available: b.balance,
            })
        })
        .collect();
    let expiring = stock::coverage::expiring(&plain, date, e1.expiry_window_days)
        .into_iter()
        .filter_map(|l| {
            by_id
                .get(&l.lot)
                .map(|b| (b.key.clone(), b.atc.clone(), l.expiry, l.available))
        })
        .collect();
    Ok(Report {
        date,
        lines: out,
        expiring,
        window_days: e1.expiry_window_days,
        lots: balances,
    })
}

/// The first day of the 365 days ending on `date`.
pub fn previous_year(date: Date) -> Option<Date> {
    date.minus_days(364)
}

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No rule data for the day.
    #[error("regeldata: {0}")]
    Rules(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bad input.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What was expected.
        message: String,
    },
}

fn invalid(field: &str, message: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A delivery to pick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// From this wholesaler.
    pub wholesaler: String,
    /// This package.
    pub varenr: String,
    /// Packages.
    pub quantity: i64,
    /// On this day.
    pub date: Date,
    /// Only show the picks; record nothing.
    pub dry_run: bool,
}

/// E3: picks a delivery first expiry first out, and — unless it is a dry run — records each
/// pick as an issue in one transaction. A pick a concurrent writer made impossible is refused
/// by the ledger, never taken.
pub async fn allocate(
    store: &Store,
    rules: &RuleSet,
    delivery: &Delivery,
    now: String,
    audit: Option<store::NewRecord>,
) -> Result<(stock::Allocation, Vec<store::stock_ledger::Appended>), ReportError> {
    let Delivery {
        wholesaler,
        varenr,
        quantity,
        date,
        dry_run,
    } = delivery.clone();
    let (wholesaler, varenr) = (wholesaler.as_str(), varenr.as_str());
    let e1 = rules_on(rules, date).map_err(ReportError::Rules)?;
    if e1.wholesaler(wholesaler).is_none() {
        return Err(invalid(
            "wholesaler",
            format!(
                "ukjent grossist «{wholesaler}»; ventet en av {}",
                e1.wholesalers
                    .iter()
                    .map(|w| w.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if quantity <= 0 {
        return Err(invalid("quantity", "ventet et positivt antall pakninger"));
    }
    let lots: Vec<LotBalance> = store
        .stock_balances(Some(wholesaler), None)
        .await?
        .into_iter()
        .filter(|b| b.key.varenr == varenr)
        .collect();
    let stock: Vec<LotStock> = lots
        .iter()
        .filter_map(|b| {
            Date::parse(&b.expiry).ok().map(|expiry| LotStock {
                lot: b.key.lot.clone(),
                expiry,
                available: b.balance,
            })
        })
        .collect();
    let allocation = stock::fefo::allocate(&stock, quantity, date);
    if dry_run || allocation.picks.is_empty() {
        return Ok((allocation, Vec::new()));
    }
    let batch = allocation
        .picks
        .iter()
        .filter_map(|p| {
            let lot = lots.iter().find(|b| b.key.lot == p.lot)?;
            Some(StockEventIn {
                lot: lot.key.clone(),
                atc: lot.atc.clone(),
                expiry: p.expiry,
                event: stock::NewEvent {
                    date,
                    kind: stock::EventKind::Issued,
                    quantity: p.quantity,
                    reverses: None,
                },
                note: "FEFO-plukk".into(),
                key: None,
            })
        })
        .collect();
    // All picks or none: a pick that a concurrent delivery made impossible undoes the rest.
    let stored = store.append_stock_events_all(batch, now, audit).await?;
    Ok((allocation, stored))
}

/// A supply stop of `days` for the medicines under `atc` (a code or group), from `date`.
pub async fn simulate(
    store: &Store,
    rules: &RuleSet,
    atc: &str,
    days: u32,
    date: Date,
) -> Result<Simulation, ReportError> {
    let e1 = rules_on(rules, date).map_err(ReportError::Rules)?;
    let prefix = Atc::parse(&atc.trim().to_ascii_uppercase())
        .map_err(|e| invalid("atc", e.to_string()))?
        .to_string();
    if days == 0 {
        return Err(invalid("days", "ventet et antall dager over 0"));
    }
    let balances = store.stock_balances(None, Some(&prefix)).await?;
    let sales = store
        .stock_sales(previous_year(date).unwrap_or(date), date)
        .await?;
    let holders: Vec<Holder> = e1
        .wholesalers
        .iter()
        .map(|w| Holder {
            id: w.id.clone(),
            stock: balances
                .iter()
                .filter(|b| b.key.wholesaler == w.id)
                .map(|b| usable(b, date))
                .sum(),
            yearly_sales: sales
                .iter()
                .filter(|s| s.wholesaler == w.id && s.atc.starts_with(&prefix))
                .map(|s| s.packages)
                .sum(),
        })
        .collect();
    Ok(stock::coverage::simulate_stop(
        &holders,
        days,
        e1.rationing_below_days,
    ))
}
