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
use store::{ClaimRecord, Location, Store};

use crate::Failure;
use crate::service::runtime;

/// Writes `bytes` to `path` whole or not at all (a temporary file, synced, then renamed).
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp-legemiddel");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("skriver {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("skriver {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("skriver {}", path.display()))?;
    Ok(())
}

/// `legemiddel settle export --payer P --period YYYY-MM --out FILE`.
pub fn export(location: Location, payer: &str, period: &str, out: &Path) -> Result<(), Failure> {
    if !["helfo", "rhf", "hf"].contains(&payer) {
        return Err(Failure::BadInput(contract::ContractError::new(
            "--payer",
            "ventet helfo, rhf eller hf",
        )));
    }
    if period.len() != 7 || domain::Date::parse(&format!("{period}-01")).is_err() {
        return Err(Failure::BadInput(contract::ContractError::new(
            "--period",
            "ventet en måned: ÅÅÅÅ-MM",
        )));
    }
    let result: anyhow::Result<()> = runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        let fresh = store.settle(payer, period, &server::now_rfc3339()).await?;
        let settlements = store.settlements(payer, period).await?;
        let mut claims: Vec<ClaimRecord> = Vec::new();
        for (id, _, _) in &settlements {
            claims.extend(store.claims_of_settlement(*id).await?);
        }
        if claims.is_empty() {
            bail!("ingen krav på {payer} for {period}: ingen fil skrevet");
        }
        let parsed: Vec<(Value, Value)> = claims
            .iter()
            .map(|c| {
                (
                    serde_json::from_str(&c.request).unwrap_or(Value::Null),
                    serde_json::from_str(&c.answer).unwrap_or(Value::Null),
                )
            })
            .collect();
        let settled: Vec<contract::settlement::SettledClaim> = claims
            .iter()
            .zip(&parsed)
            .map(|(c, (q, a))| contract::settlement::SettledClaim {
                id: c.id,
                amount_ore: c.amount_ore,
                credit_of: c.credit_of,
                request: q,
                answer: a,
            })
            .collect();
        let total: i64 = claims.iter().map(|c| c.amount_ore).sum();
        let number = settlements
            .iter()
            .map(|(id, _, _)| id.to_string())
            .collect::<Vec<_>>()
            .join("+");
        if payer == "helfo" {
            let xml = contract::settlement::m18(
                &format!("{period}/{number}"),
                &crate::today().to_string(),
                &settled,
            );
            write_whole(out, xml.as_bytes())?;
        } else {
            let table = cases::overview::Table {
                title: format!("Faktura til {payer} for {period} (oppgjør {number})"),
                columns: contract::settlement::INVOICE_COLUMNS
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                rows: settled
                    .iter()
                    .zip(&claims)
                    .map(|(s, c)| {
                        let (cells, amount) = contract::settlement::invoice_row(
                            s,
                            c.trust.as_deref().unwrap_or("(ukjent helseforetak)"),
                        );
                        let mut row: Vec<cases::overview::Cell> =
                            cells.into_iter().map(cases::overview::Cell::Text).collect();
                        let ore = domain::Ore(amount.unsigned_abs());
                        row.push(if amount < 0 {
                            cases::overview::Cell::Credit(ore)
                        } else {
                            cases::overview::Cell::Money(ore)
                        });
                        row
                    })
                    .collect(),
            };
            write_whole(out, cases::overview::csv(&table).as_bytes())?;
            let xlsx = server::xlsx::table(&table).context("lager XLSX")?;
            write_whole(&out.with_extension("xlsx"), &xlsx)?;
        }
        println!(
            "{} krav på {payer} for {period}, i alt {} ({}), skrevet til {}",
            claims.len(),
            domain::Ore(u64::try_from(total).unwrap_or(0)),
            match fresh {
                Some((id, new)) => format!("{} nye i oppgjør {id}", new.len()),
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
    if period.len() != 7 || domain::Date::parse(&format!("{period}-01")).is_err() {
        return Err(Failure::BadInput(contract::ContractError::new(
            "--period",
            "ventet en måned: ÅÅÅÅ-MM",
        )));
    }
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
