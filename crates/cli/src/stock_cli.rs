//! `legemiddel stock …`: the emergency stockpiles (E1–E4) at the terminal — a ledger file
//! imported, verified from its events, coverage against the requirement, a delivery picked first
//! expiry first out, a supply stop simulated, and a national-scale data set generated.
//!
//! The ledger file is CSV with the header
//! `wholesaler,varenr,lot,atc,expiry,date,kind,quantity,reverses,note,key`: one event per line,
//! dates as `YYYY-MM-DD`, `kind` one of received, issued, adjusted, counted, expired, reversed.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use contract::ContractError;
use domain::Date;
use ruleset::RuleSet;
use server::stockpiles::{self, Delivery, ReportError};
use stock::{EventKind, NewEvent};
use store::stock_ledger::{Appended, LotKey, StockEventIn};
use store::{Location, NewRecord, Store};

use crate::Failure;
use crate::service::runtime;

/// The ledger file's columns, in order.
pub const HEADER: &str = "wholesaler,varenr,lot,atc,expiry,date,kind,quantity,reverses,note,key";

fn bad(field: &str, message: impl Into<String>) -> Failure {
    Failure::BadInput(ContractError::new(field, message))
}

fn report_error(e: ReportError) -> Failure {
    match e {
        ReportError::Invalid { field, message } => bad(&field, message),
        other => Failure::Other(anyhow::anyhow!("{other}")),
    }
}

/// One line of the ledger file as an event, or what is wrong with which column.
fn parse_line(line: &str, n: usize) -> Result<StockEventIn, Failure> {
    let cols: Vec<&str> = line.split(',').collect();
    let at = |c: &str| format!("linje {n}, {c}");
    if cols.len() != 11 {
        return Err(bad(
            &format!("linje {n}"),
            format!("ventet 11 kolonner ({HEADER}), fant {}", cols.len()),
        ));
    }
    let date = |c: usize, name: &str| {
        Date::parse(cols[c].trim()).map_err(|e| bad(&at(name), e.to_string()))
    };
    let kind = EventKind::from_code(cols[6].trim()).ok_or_else(|| {
        bad(
            &at("kind"),
            format!(
                "ukjent hendelse «{}»; ventet received, issued, adjusted, counted, expired eller reversed",
                cols[6]
            ),
        )
    })?;
    let quantity: i64 = cols[7].trim().parse().map_err(|_| {
        bad(
            &at("quantity"),
            format!("ventet et heltall pakninger, fikk «{}»", cols[7]),
        )
    })?;
    let reverses = match cols[8].trim() {
        "" => None,
        r => Some(r.parse::<i64>().map_err(|_| {
            bad(
                &at("reverses"),
                format!("ventet id-en til hendelsen som reverseres, fikk «{r}»"),
            )
        })?),
    };
    let varenr = cols[1].trim();
    if varenr.len() != 6 || !varenr.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            &at("varenr"),
            format!("ventet seks sifre, fikk «{varenr}»"),
        ));
    }
    let atc = domain::Atc::parse(cols[3].trim())
        .map_err(|e| bad(&at("atc"), e.to_string()))?
        .to_string();
    for (c, name) in [(0, "wholesaler"), (2, "lot")] {
        if cols[c].trim().is_empty() {
            return Err(bad(&at(name), "kan ikke være tom"));
        }
    }
    Ok(StockEventIn {
        lot: LotKey {
            wholesaler: cols[0].trim().to_string(),
            varenr: varenr.to_string(),
            lot: cols[2].trim().to_string(),
        },
        atc,
        expiry: date(4, "expiry")?,
        event: NewEvent {
            date: date(5, "date")?,
            kind,
            quantity,
            reverses,
        },
        note: cols[9].trim().to_string(),
        key: Some(cols[10].trim())
            .filter(|k| !k.is_empty())
            .map(str::to_string),
    })
}

pub(crate) fn open(location: &Location) -> anyhow::Result<(tokio::runtime::Runtime, Store)> {
    let rt = runtime()?;
    let store = rt
        .block_on(Store::open(location))
        .with_context(|| location.describe())?;
    Ok((rt, store))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `stock import FILE`: reads the whole file once to check every line (nothing is stored if a
/// line is wrong), then stores it in batches of `batch` events, each batch one transaction with
/// its audit record; every event is checked against its lot's history (E3). Prints what was
/// stored, already there, and refused (the first refusals with their lines).
pub fn import(
    location: &Location,
    rules: &RuleSet,
    file: &Path,
    batch: usize,
) -> Result<(), Failure> {
    let lines = |f: &Path| -> anyhow::Result<_> {
        let r = std::fs::File::open(f).with_context(|| format!("leser {}", f.display()))?;
        Ok(BufReader::with_capacity(1 << 20, r).lines())
    };
    let e1 = stockpiles::rules_on(rules, crate::today())
        .map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    // Pass 1: every line well-formed, every wholesaler known.
    let mut total = 0usize;
    for (i, line) in lines(file)?.enumerate() {
        let line = line.with_context(|| format!("leser {}", file.display()))?;
        if i == 0 {
            if line.trim() != HEADER {
                return Err(bad("linje 1", format!("ventet overskriften {HEADER}")));
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let e = parse_line(&line, i + 1)?;
        if e1.wholesaler(&e.lot.wholesaler).is_none() {
            return Err(bad(
                &format!("linje {}, wholesaler", i + 1),
                format!(
                    "ukjent grossist «{}»; ventet en av {}",
                    e.lot.wholesaler,
                    e1.wholesalers
                        .iter()
                        .map(|w| w.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        total += 1;
    }
    // Pass 2: store.
    let (rt, store) = open(location)?;
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let (mut new, mut again, mut refused) = (0usize, 0usize, Vec::<String>::new());
    let mut pending: Vec<(usize, StockEventIn)> = Vec::with_capacity(batch);
    let mut flush = |pending: &mut Vec<(usize, StockEventIn)>| -> anyhow::Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let line_numbers: Vec<usize> = pending.iter().map(|p| p.0).collect();
        let events: Vec<StockEventIn> = pending.drain(..).map(|p| p.1).collect();
        let audit = NewRecord {
            at: now(),
            actor: "cli".into(),
            role: "stockpile_manager".into(),
            action: "stock:import".into(),
            rule_set: rules.label(crate::today()).to_string(),
            request: serde_json::json!({
                "file": file.display().to_string(),
                "lines": [line_numbers.first(), line_numbers.last()],
                "events": events.len(),
            })
            .to_string(),
            response: "{}".into(),
        };
        let result = rt.block_on(store.append_stock_events(events, now(), Some(audit)))?;
        for (line, r) in line_numbers.into_iter().zip(result) {
            match r {
                Appended::New(_) => new += 1,
                Appended::Again(_) => again += 1,
                Appended::Refused(e) => refused.push(format!("linje {line}: {e}")),
                Appended::Mismatch(m) => refused.push(format!("linje {line}: {m}")),
            }
        }
        if tty {
            let done = new + again + refused.len();
            eprint!(
                "\rlagerhendelser: {done} av {total} ({:.0} per sekund)",
                done as f64 / started.elapsed().as_secs_f64().max(1e-3)
            );
            let _ = std::io::stderr().flush();
        }
        Ok(())
    };
    for (i, line) in lines(file)?.enumerate().skip(1) {
        let line = line.with_context(|| format!("leser {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        pending.push((i + 1, parse_line(&line, i + 1)?));
        if pending.len() >= batch {
            flush(&mut pending)?;
        }
    }
    flush(&mut pending)?;
    if tty {
        eprintln!();
    }
    rt.block_on(store.close());
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{new} hendelser lagret, {again} fantes fra før, {} avvist ({:.1} s, {:.0} per sekund)",
        refused.len(),
        secs,
        (new + again + refused.len()) as f64 / secs.max(1e-3)
    );
    for r in refused.iter().take(20) {
        eprintln!("avvist: {r}");
    }
    if refused.len() > 20 {
        eprintln!("… og {} til", refused.len() - 20);
    }
    Ok(())
}

/// `stock verify`: recomputes every lot from its events; exit 1 if any lot is wrong.
pub fn verify(location: &Location) -> Result<(), Failure> {
    let (rt, store) = open(location)?;
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let (problems, lots, events) = rt
        .block_on(store.verify_stock(|done, total| {
            if tty {
                eprint!("\rkontrollerer partier: {done} av {total}");
                let _ = std::io::stderr().flush();
            }
        }))
        .context("kontrollerer lageret")?;
    if tty {
        eprintln!();
    }
    rt.block_on(store.close());
    if problems.is_empty() {
        println!(
            "lageret stemmer: {lots} partier, {events} hendelser regnet om fra hendelsene ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    for p in &problems {
        println!(
            "{} {} parti {}: {:?}",
            p.key.wholesaler, p.key.varenr, p.key.lot, p.problems
        );
    }
    Err(Failure::Other(anyhow::anyhow!(
        "{} av {lots} partier stemmer ikke med hendelsene",
        problems.len()
    )))
}

/// Reads a pharmacy sales file — CSV with the header `date,atc,packages` or
/// `date,wholesaler,atc,packages`; fractions of packages (multidose) allowed — and sums the 365
/// days ending on `date`. A wrong line is named by line and column.
pub fn read_sales(file: &Path, date: Date) -> Result<stockpiles::PharmacySales, Failure> {
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return read_sales_parquet(file, date);
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("leser {}", file.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").trim();
    let with_wholesaler = match header {
        "date,atc,packages" => false,
        "date,wholesaler,atc,packages" => true,
        _ => {
            return Err(bad(
                "--sales, linje 1",
                "ventet overskriften date,atc,packages eller date,wholesaler,atc,packages",
            ));
        }
    };
    let from = stockpiles::previous_year(date).unwrap_or(date);
    let mut sales = stockpiles::PharmacySales::default();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let expected = if with_wholesaler { 4 } else { 3 };
        if cols.len() != expected {
            return Err(bad(
                &format!("--sales, linje {n}"),
                format!("ventet {expected} kolonner, fant {}", cols.len()),
            ));
        }
        let day = Date::parse(cols[0])
            .map_err(|e| bad(&format!("--sales, linje {n}, date"), e.to_string()))?;
        let atc_col = if with_wholesaler { 2 } else { 1 };
        let atc = domain::Atc::parse(cols[atc_col])
            .map_err(|e| bad(&format!("--sales, linje {n}, atc"), e.to_string()))?
            .to_string();
        let packages: f64 = cols[atc_col + 1]
            .replace(',', ".")
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| {
                bad(
                    &format!("--sales, linje {n}, packages"),
                    format!(
                        "ventet et antall pakninger (0 eller mer, desimaler tillatt), fikk «{}»",
                        cols[atc_col + 1]
                    ),
                )
            })?;
        if day < from || day > date {
            continue;
        }
        if with_wholesaler {
            *sales
                .by_wholesaler
                .entry((atc, cols[1].to_string()))
                .or_default() += packages;
        } else {
            *sales.national.entry(atc).or_default() += packages;
        }
    }
    Ok(sales)
}

/// The same from a Parquet file (as DuckDB, pandas or Spark write it; uncompressed or Snappy):
/// columns `date` (a date, or text `YYYY-MM-DD`), `atc` (text), `packages` (a number) and
/// optionally `wholesaler` (text), found by name. A wrong row is named by row and column.
fn read_sales_parquet(file: &Path, date: Date) -> Result<stockpiles::PharmacySales, Failure> {
    let from = stockpiles::previous_year(date).unwrap_or(date);
    let mut sales = stockpiles::PharmacySales::default();
    crate::parquet_rows::each_row(file, "--sales", |n, fields| {
        let at = |c: &str| format!("--sales, rad {n}, {c}");
        let get = |c: &str| fields.get(c).map_or("", String::as_str);
        if let Some(needed) = ["date", "atc", "packages"]
            .iter()
            .find(|c| !fields.contains_key(**c))
        {
            let has: Vec<&str> = fields.keys().map(String::as_str).collect();
            return Err(bad(
                "--sales",
                format!(
                    "Parquet-filen mangler kolonnen «{needed}» (har: {})",
                    has.join(", ")
                ),
            ));
        }
        let day = Date::parse(get("date")).map_err(|e| bad(&at("date"), e.to_string()))?;
        let atc = domain::Atc::parse(get("atc"))
            .map_err(|e| bad(&at("atc"), e.to_string()))?
            .to_string();
        let packages: f64 = get("packages")
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| bad(&at("packages"), "ventet et antall pakninger (0 eller mer)"))?;
        if day < from || day > date {
            return Ok(());
        }
        match get("wholesaler").trim() {
            "" => *sales.national.entry(atc).or_default() += packages,
            w => *sales.by_wholesaler.entry((atc, w.to_string())).or_default() += packages,
        }
        Ok(())
    })?;
    Ok(sales)
}

/// What the requirement is sized from.
pub enum SalesSource {
    /// The wholesalers' issues in the ledger.
    Ledger,
    /// A pharmacy sales file.
    File(std::path::PathBuf),
    /// The pharmacy side's own dispensings in the store.
    Dispensings,
}

/// `stock coverage`: the table on standard output (text or CSV), or an XLSX file; the
/// requirement sized from pharmacy sales when asked.
pub fn coverage(
    location: &Location,
    rules: &RuleSet,
    date: Date,
    format: &str,
    out: Option<&Path>,
    only_alerts: bool,
    sales: SalesSource,
) -> Result<(), Failure> {
    let mut pharmacy_sales = match &sales {
        SalesSource::File(f) => Some(read_sales(f, date)?),
        _ => None,
    };
    let (rt, store) = open(location)?;
    let started = std::time::Instant::now();
    if let SalesSource::Dispensings = sales {
        pharmacy_sales = Some(
            rt.block_on(stockpiles::sales_from_dispensings(&store, date))
                .map_err(report_error)?,
        );
    }
    let mut report = rt
        .block_on(stockpiles::report_with(
            &store,
            rules,
            date,
            pharmacy_sales.as_ref(),
        ))
        .map_err(report_error)?;
    let elapsed = started.elapsed();
    rt.block_on(store.close());
    if only_alerts {
        report.lines.retain(|l| l.alert());
    }
    let table = stockpiles::coverage_table(&report);
    match (format, out) {
        ("xlsx", Some(path)) => {
            let bytes = server::xlsx::table(&table).context("lager XLSX")?;
            std::fs::write(path, bytes).with_context(|| format!("skriver {}", path.display()))?;
            println!("skrev {} ({} linjer)", path.display(), table.rows.len());
        }
        ("xlsx", None) => return Err(bad("--out", "XLSX skrives til en fil: oppgi --out FIL")),
        ("csv", _) | ("table", _) => {
            let text = if format == "csv" {
                cases::overview::csv(&table)
            } else {
                text_table(&table)
            };
            match out {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("skriver {}", path.display()))?,
                None => {
                    let mut w = BufWriter::new(std::io::stdout().lock());
                    w.write_all(text.as_bytes())
                        .and_then(|()| w.flush())
                        .context("skriver til standard ut")?;
                }
            }
        }
        (other, _) => {
            return Err(bad(
                "--format",
                format!("ukjent format «{other}»; ventet table, csv eller xlsx"),
            ));
        }
    }
    let alerts = report.lines.iter().filter(|l| l.alert()).count();
    eprintln!(
        "{} linjer, {alerts} under kravet; {} partier går ut innen {} dager (beregnet på {:.0} ms)",
        report.lines.len(),
        report.expiring.len(),
        report.window_days,
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// A plain text table with aligned columns.
fn text_table(t: &cases::overview::Table) -> String {
    use cases::overview::Cell;
    let cell = |c: &Cell| match c {
        Cell::Text(s) => s.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Money(o) | Cell::Credit(o) => format!("{:.2}", o.0 as f64 / 100.0),
    };
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let widths: Vec<usize> = (0..t.columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([t.columns[i].chars().count()])
                .max()
                .unwrap_or(0)
                .min(40)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", c.chars().take(*w).collect::<String>(), w = *w))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&t.columns, &mut out);
    for r in &rows {
        line(r, &mut out);
    }
    out
}

/// `stock allocate`: a delivery picked first expiry first out (E3), recorded unless `--dry-run`.
pub fn allocate(location: &Location, rules: &RuleSet, delivery: &Delivery) -> Result<(), Failure> {
    let (rt, store) = open(location)?;
    let (allocation, stored) = rt
        .block_on(stockpiles::allocate(
            &store,
            rules,
            delivery,
            now(),
            Some(NewRecord {
                at: now(),
                actor: "cli".into(),
                role: "stockpile_manager".into(),
                action: "stock:allocate".into(),
                rule_set: rules.label(delivery.date).to_string(),
                request: format!("{delivery:?}"),
                response: "{}".into(),
            }),
        ))
        .map_err(report_error)?;
    rt.block_on(store.close());
    for p in &allocation.picks {
        println!(
            "parti {} (utløper {}): {} pakninger",
            p.lot, p.expiry, p.quantity
        );
    }
    if allocation.shortfall > 0 {
        println!(
            "mangler {} pakninger: ikke nok brukbart lager",
            allocation.shortfall
        );
    }
    if !delivery.dry_run && !allocation.picks.is_empty() {
        println!("registrert som {} utleveringer", stored.len());
    }
    Ok(())
}

/// `stock simulate`: a supply stop of `days` for `atc`.
pub fn simulate(
    location: &Location,
    rules: &RuleSet,
    atc: &str,
    days: u32,
    date: Date,
) -> Result<(), Failure> {
    let (rt, store) = open(location)?;
    let sim = rt
        .block_on(stockpiles::simulate(&store, rules, atc, days, date))
        .map_err(report_error)?;
    rt.block_on(store.close());
    let d = |x: Option<f64>| x.map_or("ingen salg".to_string(), |d| format!("{d:.0} dager"));
    println!("Leveringsstans for {atc} i {days} dager fra {date}:");
    for h in &sim.holders {
        let empty = h
            .empty_on_day
            .map_or("holder hele perioden".to_string(), |day| {
                format!("tomt dag {day}")
            });
        println!(
            "  {:<8} dekning {:<12} {empty}; mangler {} pakninger",
            h.id,
            d(h.days),
            h.shortfall
        );
    }
    println!(
        "  nasjonalt dekning {}; mangler {} pakninger",
        d(sim.national_days),
        sim.national_shortfall
    );
    match sim.rationing_from_day {
        Some(day) => println!("Rasjonering (E4) bør vurderes fra dag {day}."),
        None => println!("Rasjonering (E4) trengs ikke i perioden."),
    }
    if !sim.rationed_shares.is_empty() {
        println!(
            "Etterspørselen i stansen er større enn lageret: {} pakninger holdes tilbake til prioriterte grupper, resten fordeles etter etterspørsel:",
            sim.reserve
        );
        for (h, n) in sim.holders.iter().zip(&sim.rationed_shares) {
            println!("  {:<8} {n} pakninger", h.id);
        }
    }
    Ok(())
}

/// `stock generate`: a national-scale ledger file with known properties — `medicines`
/// varenumre (leading zeros included) at every wholesaler in the rule data, daily issues for
/// `years` years from `from`, a receipt every 30 days, issues first expiry first out, leftovers
/// expired the day after their lot expires. Every event is valid; the stock never goes negative.
pub fn generate(
    rules: &RuleSet,
    out: &Path,
    medicines: usize,
    years: u32,
    from: Date,
) -> anyhow::Result<()> {
    let e1 = stockpiles::rules_on(rules, crate::today()).map_err(|e| anyhow::anyhow!(e))?;
    // ATC codes: the covered groups' codes first (padded to substances), then others.
    let atcs = [
        "J01CA04", "J01CE02", "A10AB05", "A10BA02", "H03AA01", "N03AX09", "B01AF01", "H02AB06",
        "L01XC18", "N01AX10", "J01DH02", "C07AB02", "C09AA05", "R03AC02", "N02BE01",
    ];
    let f = std::fs::File::create(out).with_context(|| format!("skriver {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "{HEADER}")?;
    let days = (f64::from(years) * 365.25) as u32;
    // Up to today at most: the ledger refuses events dated after today.
    let days = days.min(u32::try_from(crate::today().days_since(from) + 1).unwrap_or(0));
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tty = std::io::stderr().is_terminal();
    let mut written = 0u64;
    for m in 0..medicines {
        let varenr = format!("{:06}", m * 7 + 3);
        let atc = atcs[m % atcs.len()];
        for w_ in &e1.wholesalers {
            let rate = 1 + (next() % 40) as i64; // packages a day
            // Days of sales per 30-day delivery: some substances fall below their requirement.
            let cover = 25 + (next() % 35) as i64;
            let mut lots: Vec<(String, Date, i64)> = Vec::new();
            for day in 0..days {
                let date = from.plus_days(day).context("dato")?;
                if day % 30 == 0 {
                    let lot = format!("L{m}{}{day}", &w_.id[..1]);
                    let expiry = date
                        .plus_days(400 + (next() % 200) as u32)
                        .context("dato")?;
                    let q = rate * cover + (next() % 20) as i64;
                    writeln!(
                        w,
                        "{},{varenr},{lot},{atc},{expiry},{date},received,{q},,,",
                        w_.id
                    )?;
                    lots.push((lot, expiry, q));
                    written += 1;
                }
                // Leftovers of a lot that expired yesterday are taken out.
                for (lot, expiry, left) in lots.iter_mut() {
                    if *left > 0 && expiry.plus_days(1) == Some(date) {
                        writeln!(
                            w,
                            "{},{varenr},{lot},{atc},{expiry},{date},expired,{left},,,",
                            w_.id
                        )?;
                        *left = 0;
                        written += 1;
                    }
                }
                // The day's sales, first expiry first out.
                let mut want = (rate + (next() % 5) as i64 - 2).max(0);
                lots.sort_by_key(|l| l.1);
                for (lot, expiry, left) in lots.iter_mut() {
                    if want == 0 {
                        break;
                    }
                    if *left == 0 || *expiry < date {
                        continue;
                    }
                    let take = want.min(*left);
                    writeln!(
                        w,
                        "{},{varenr},{lot},{atc},{expiry},{date},issued,{take},,,",
                        w_.id
                    )?;
                    *left -= take;
                    want -= take;
                    written += 1;
                }
                lots.retain(|l| l.2 > 0);
            }
        }
        if tty && m % 10 == 0 {
            eprint!(
                "\rgenererer: {} av {medicines} legemidler, {written} hendelser",
                m + 1
            );
        }
    }
    w.flush()?;
    if tty {
        eprintln!();
    }
    println!("skrev {written} hendelser til {}", out.display());
    Ok(())
}
