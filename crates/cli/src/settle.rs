//! `legemiddel settle export`: settle a payer's open claims for a month and write the file the
//! payer takes — M18 `Oppgjorskrav` for Helfo, an invoice as CSV and XLSX for the trusts.
//!
//! Exactly once: the open claims of the month are settled in one transaction (each claim can be
//! in one settlement only), and the file holds every claim settled for that payer and month. A
//! second export of the same month settles nothing new and writes the same claims again.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::Value;
use store::{Location, Store};

use crate::Failure;
use crate::service::runtime;

/// `--period` must be a month, `YYYY-MM`.
fn month(period: &str) -> Result<(), Failure> {
    if period.len() == 7 && domain::Date::parse(&format!("{period}-01")).is_ok() {
        return Ok(());
    }
    Err(Failure::BadInput(contract::ContractError::new(
        "--period",
        "ventet en måned: ÅÅÅÅ-MM",
    )))
}

/// Where a file is written before it is renamed into place: `FILE.part` beside it.
fn part_of(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    std::path::PathBuf::from(name)
}

/// Writes `bytes` to `path` whole or not at all (a temporary file, synced, then renamed).
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = part_of(path);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("skriver {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("skriver {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("skriver {}", path.display()))?;
    Ok(())
}

/// What the invoice rows say when no trust is named.
const UNKNOWN_TRUST: &str = "(ukjent helseforetak)";
/// The per-trust file of claims that name no trust.
const NO_TRUST_FILE: &str = "uten-helseforetak";

/// `FILE.csv` → `FILE.<trust-id>.csv`.
fn per_trust(out: &Path, trust_id: &str) -> std::path::PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.{trust_id}.csv"))
}

/// `legemiddel settle export --payer P --period YYYY-MM --out FILE`.
pub fn export(location: Location, payer: &str, period: &str, out: &Path) -> Result<(), Failure> {
    if !["helfo", "rhf", "hf"].contains(&payer) {
        return Err(Failure::BadInput(contract::ContractError::new(
            "--payer",
            "ventet helfo, rhf eller hf",
        )));
    }
    month(period)?;
    let result: anyhow::Result<()> = runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        let fresh = store.settle(payer, period, &server::now_rfc3339()).await?;
        let settlements = store.settlements(payer, period).await?;
        let count: i64 = settlements.iter().map(|(_, n, _)| n).sum();
        let total: i64 = settlements.iter().map(|(_, _, sum)| sum).sum();
        if count == 0 {
            bail!("ingen krav på {payer} for {period}: ingen fil skrevet");
        }
        let number = settlements
            .iter()
            .map(|(id, _, _)| id.to_string())
            .collect::<Vec<_>>()
            .join("+");
        // The claims are read and written a page at a time: a chain's month is half a million.
        let tmp = out.with_extension("tmp-legemiddel");
        let file =
            std::fs::File::create(&tmp).with_context(|| format!("skriver {}", tmp.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut rows: Vec<Vec<cases::overview::Cell>> = Vec::new();
        // The same rows by paying trust (id, name), for one invoice per trust.
        let mut by_trust: std::collections::BTreeMap<(String, String), Vec<usize>> =
            std::collections::BTreeMap::new();
        if payer == "helfo" {
            w.write_all(
                contract::settlement::m18_header(
                    &format!("{period}/{number}"),
                    &crate::today().to_string(),
                    usize::try_from(count).unwrap_or(0),
                    total,
                )
                .as_bytes(),
            )?;
        }
        let mut after = 0i64;
        loop {
            let page = store
                .settled_claims_page(payer, period, after, 5_000)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for c in &page {
                let q: Value = serde_json::from_str(&c.request).unwrap_or(Value::Null);
                let a: Value = serde_json::from_str(&c.answer).unwrap_or(Value::Null);
                let claim = contract::settlement::SettledClaim {
                    id: c.id,
                    amount_ore: c.amount_ore,
                    credit_of: c.credit_of,
                    request: &q,
                    answer: &a,
                };
                if payer == "helfo" {
                    w.write_all(contract::settlement::m18_claim(&claim).as_bytes())?;
                } else {
                    let [trust_id, ..] = contract::settlement::paying_trust(&claim, payer);
                    let (cells, amount) = contract::settlement::invoice_row(
                        &claim,
                        payer,
                        c.trust.as_deref().unwrap_or(UNKNOWN_TRUST),
                    );
                    let key = if trust_id.is_empty() {
                        (NO_TRUST_FILE.to_string(), UNKNOWN_TRUST.to_string())
                    } else {
                        (trust_id.to_string(), cells[4].clone())
                    };
                    by_trust.entry(key).or_default().push(rows.len());
                    let mut row: Vec<cases::overview::Cell> =
                        cells.into_iter().map(cases::overview::Cell::Text).collect();
                    let ore = domain::Ore(amount.unsigned_abs());
                    row.push(if amount < 0 {
                        cases::overview::Cell::Credit(ore)
                    } else {
                        cases::overview::Cell::Money(ore)
                    });
                    rows.push(row);
                }
            }
        }
        if payer == "helfo" {
            w.write_all(contract::settlement::M18_END.as_bytes())?;
        } else {
            let table = cases::overview::Table {
                title: format!("Faktura til {payer} for {period} (oppgjør {number})"),
                columns: contract::settlement::INVOICE_COLUMNS
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                rows,
            };
            w.write_all(cases::overview::csv(&table).as_bytes())?;
            let xlsx = server::xlsx::table(&table).context("lager XLSX")?;
            write_whole(&out.with_extension("xlsx"), &xlsx)?;
            // One invoice per paying trust beside it: FILE.<trust-id>.csv and .xlsx.
            for ((id, name), indices) in &by_trust {
                let one = cases::overview::Table {
                    title: format!("Faktura til {name} for {period} (oppgjør {number})"),
                    columns: table.columns.clone(),
                    rows: indices.iter().map(|&i| table.rows[i].clone()).collect(),
                };
                let path = per_trust(out, id);
                write_whole(&path, cases::overview::csv(&one).as_bytes())?;
                write_whole(
                    &path.with_extension("xlsx"),
                    &server::xlsx::table(&one).context("lager XLSX")?,
                )?;
                if id == NO_TRUST_FILE {
                    eprintln!(
                        "advarsel: {} krav uten helseforetak (bostedskommunen mangler eller står ikke i registeret) er skrevet til {}",
                        indices.len(),
                        path.display()
                    );
                }
            }
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, out).with_context(|| format!("skriver {}", out.display()))?;
        println!(
            "{count} krav på {payer} for {period}, i alt {}{} ({}), skrevet til {}",
            if total < 0 { "-" } else { "" },
            domain::Ore(total.unsigned_abs()),
            match fresh {
                Some((id, new)) => format!("{new} {} i oppgjør {id}", if new == 1 { "ny" } else { "nye" }),
                None => "ingen nye: samme krav som før".into(),
            },
            out.display()
        );
        Ok(())
    });
    result.map_err(Failure::Other)
}

/// `legemiddel settle credit --dispensing ID [--period YYYY-MM]`: credits the dispensing's
/// claims (a correction after settlement): new claims of the opposite amount in the period,
/// settled with the period's next export. Crediting twice credits nothing more.
pub fn credit(location: Location, dispensing: &str, period: &str) -> Result<(), Failure> {
    month(period)?;
    let result: anyhow::Result<()> = runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        match store
            .credit_dispensing(dispensing, period, &server::now_rfc3339())
            .await
        {
            Err(store::StoreError::NotFound(_)) => {
                bail!("utleveringen «{dispensing}» finnes ikke")
            }
            Err(e) => Err(e.into()),
            Ok(ids) if ids.is_empty() => {
                println!("«{dispensing}» har ingen krav som ikke alt er kreditert; ingenting endret");
                Ok(())
            }
            Ok(ids) => {
                println!(
                    "kreditert: {} krav for «{dispensing}» i {period} (krav {}); de gjøres opp med neste eksport for perioden",
                    ids.len(),
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                );
                Ok(())
            }
        }
    });
    result.map_err(Failure::Other)
}
