//! `legemiddel fest …`: import a FEST file as a snapshot, search the catalogue in force, list
//! snapshots, write test files.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Seek, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use contract::ContractError;
use sha2::{Digest, Sha256};
use store::{Imported, Location, Store};

use crate::Failure;
use crate::service::runtime;

/// Counts bytes and hashes them while the parser reads.
struct Tee<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// A progress line on standard error when it is a terminal.
fn progress(total: Option<u64>) -> impl FnMut(u64) {
    let tty = std::io::stderr().is_terminal();
    move |done: u64| {
        if !tty {
            return;
        }
        match total {
            Some(t) if t > 0 => eprint!(
                "\rleser FEST: {:>3} % ({} av {} MB)",
                done * 100 / t,
                done >> 20,
                t >> 20
            ),
            _ => eprint!("\rleser FEST: {} MB", done >> 20),
        }
        let _ = std::io::stderr().flush();
    }
}

fn parse_file(file: &Path) -> Result<(fest::Catalogue, String), Failure> {
    let bad = |m: String| Failure::BadInput(ContractError::new(file.display().to_string(), m));
    let f = File::open(file).map_err(|e| bad(format!("kan ikke åpne filen: {e}")))?;
    let extension = |x: &str| file.extension().is_some_and(|e| e.eq_ignore_ascii_case(x));
    let result = if extension("gz") {
        // DMP's file gzipped: the progress counts compressed bytes against the file's size.
        let total = f.metadata().ok().map(|m| m.len());
        let mut tee = Tee {
            inner: flate2::read::GzDecoder::new(std::io::BufReader::with_capacity(1 << 20, f)),
            hasher: Sha256::new(),
        };
        let cat = fest::parse(BufReader::with_capacity(1 << 20, &mut tee), progress(total));
        cat.map(|c| (c, hex::encode(tee.hasher.finalize())))
    } else if extension("zip") {
        let mut archive =
            zip::ZipArchive::new(f).map_err(|e| bad(format!("ikke en gyldig zip-fil: {e}")))?;
        let index = (0..archive.len())
            .find(|&i| {
                archive
                    .by_index(i)
                    .is_ok_and(|e| e.name().to_ascii_lowercase().ends_with(".xml"))
            })
            .ok_or_else(|| bad("zip-filen har ingen .xml-fil".into()))?;
        let entry = archive
            .by_index(index)
            .map_err(|e| bad(format!("zip: {e}")))?;
        let total = entry.size();
        let mut tee = Tee {
            inner: entry,
            hasher: Sha256::new(),
        };
        let cat = fest::parse(
            BufReader::with_capacity(1 << 20, &mut tee),
            progress(Some(total)),
        );
        cat.map(|c| (c, hex::encode(tee.hasher.finalize())))
    } else {
        let total = f.metadata().ok().map(|m| m.len());
        let mut tee = Tee {
            inner: f,
            hasher: Sha256::new(),
        };
        let cat = fest::parse(BufReader::with_capacity(1 << 20, &mut tee), progress(total));
        cat.map(|c| (c, hex::encode(tee.hasher.finalize())))
    };
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    result.map_err(|e| bad(format!("avvist, ingenting er endret: {e}")))
}

/// A warning when the snapshot in force is older than `max_age_days`.
fn warn_if_old(retrieved: &str, max_age_days: i64) {
    let today = crate::today();
    if let Some(age) = fest::age_days(retrieved, today)
        && age > max_age_days
    {
        eprintln!(
            "ADVARSEL: FEST-katalogen i kraft ({retrieved}) er {age} dager gammel, eldre enn {max_age_days} dager: \
             hent en ny fil fra DMP og importer den"
        );
    }
}

/// `legemiddel fest import FILE` (`.xml`, `.zip` or `.gz`).
pub fn import(location: Location, file: &Path, max_age_days: i64) -> Result<(), Failure> {
    let start = Instant::now();
    let (cat, sha) = parse_file(file)?;
    let parsed = start.elapsed();
    let stored: anyhow::Result<Imported> = runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        Ok(store
            .import_catalogue(
                &cat,
                &sha,
                &file.display().to_string(),
                &server::now_rfc3339(),
            )
            .await?)
    });
    let stored = stored?;
    match &stored {
        Imported::New(s) => println!(
            "importert FEST {} ({} pakninger, {} merkevarer, {} refusjonshjemler, {} vilkår, {} byttegrupper) \
             på {:.1} s (lest {:.1} s) til {}",
            s.retrieved,
            s.packages,
            s.products,
            cat.refunds.len(),
            cat.conditions.len(),
            cat.substitution_groups.len(),
            start.elapsed().as_secs_f64(),
            parsed.as_secs_f64(),
            location.describe()
        ),
        Imported::AlreadyThere(s) if s.sha256 != sha => eprintln!(
            "ADVARSEL: FEST {} er allerede importert ({}, fra {}), men denne filen har andre bytes \
             (sha256 {} mot {}). Den er ikke lest inn: to filer med samme HentetDato bør ikke finnes; \
             spør DMP hvilken som gjelder.",
            s.retrieved,
            s.imported,
            s.source,
            &sha[..12],
            &s.sha256[..12.min(s.sha256.len())]
        ),
        Imported::AlreadyThere(s) => println!(
            "FEST {} er allerede importert ({}); ingenting endret",
            s.retrieved, s.imported
        ),
    }
    if !cat.skipped_catalogues.is_empty() {
        println!(
            "ikke lest (brukes ikke her): {}",
            cat.skipped_catalogues.join(", ")
        );
    }
    let (Imported::New(s) | Imported::AlreadyThere(s)) = &stored;
    warn_if_old(&s.retrieved, max_age_days);
    Ok(())
}

/// `legemiddel fest search TEXT`.
pub fn search(location: Location, text: &str, limit: usize) -> Result<(), Failure> {
    if text.trim().is_empty() {
        return Err(Failure::BadInput(ContractError::new(
            "TEXT",
            "skriv hva du søker etter",
        )));
    }
    let found: anyhow::Result<Option<(store::Snapshot, fest::Catalogue)>> =
        runtime()?.block_on(async {
            let store = Store::open(&location)
                .await
                .with_context(|| location.describe())?;
            Ok(store.latest_catalogue().await?)
        });
    let Some((snapshot, cat)) = found? else {
        return Err(Failure::Other(anyhow::anyhow!(
            "ingen FEST-katalog er importert i {}; kjør `legemiddel fest import FIL` først",
            location.describe()
        )));
    };
    let index = fest::Index::new(&cat);
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    let hits = index.search(text, limit);
    for h in &hits {
        let price = h
            .price_ore
            .map(|p| format!("{}.{:02} kr", p / 100, p % 100))
            .unwrap_or_default();
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            h.varenr, h.atc, h.name, h.size, h.prescription_group, price
        )
        .context("skriver til standard ut")?;
    }
    out.flush().context("skriver til standard ut")?;
    eprintln!("{} treff i FEST {}", hits.len(), snapshot.retrieved);
    Ok(())
}

/// `legemiddel fest snapshots`.
pub fn snapshots(location: Location, max_age_days: i64) -> Result<(), Failure> {
    let list: anyhow::Result<Vec<store::Snapshot>> = runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        Ok(store.snapshots().await?)
    });
    let list = list?;
    if let Some(newest) = list.first() {
        warn_if_old(&newest.retrieved, max_age_days);
    }
    for (i, s) in list.iter().enumerate() {
        println!(
            "{}\t{}\t{} pakninger\timportert {}\t{}{}",
            s.retrieved,
            &s.sha256[..12],
            s.packages,
            s.imported,
            s.source,
            if i == 0 { "\t(i kraft)" } else { "" }
        );
    }
    Ok(())
}

/// `legemiddel fest generate`.
pub fn generate(packages: usize, retrieved: &str, out: &Path) -> Result<(), Failure> {
    let file = File::create(out).with_context(|| format!("kan ikke skrive {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let opts = fest::generate::Options {
        packages,
        retrieved: retrieved.to_string(),
        ..Default::default()
    };
    let stats = fest::generate::write(&mut w, &opts)
        .with_context(|| format!("skriver {}", out.display()))?;
    w.flush()
        .with_context(|| format!("skriver {}", out.display()))?;
    let size = w.get_mut().stream_position().unwrap_or(0);
    println!(
        "skrev {} ({} MB): {} pakninger, {} merkevarer, {} refusjonsgrupper, {} byttegrupper, {} interaksjoner. \
         Testdata, ikke DMPs data.",
        out.display(),
        size >> 20,
        stats.packages,
        stats.products,
        stats.refund_groups,
        stats.substitution_groups,
        stats.interactions
    );
    Ok(())
}

/// `legemiddel fest decide`: one request on standard input, completed from the catalogue in
/// force when it names a product, one decision (contract JSON with `catalogue`) on standard out.
pub fn decide(location: Location, rules: &ruleset::RuleSet) -> Result<(), Failure> {
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .context("leser standard inn")?;
    let loaded: anyhow::Result<Option<(store::Snapshot, fest::Catalogue)>> =
        if contract::catalogue::names_product(&body) {
            runtime()?.block_on(async {
                let store = Store::open(&location)
                    .await
                    .with_context(|| location.describe())?;
                Ok(store.latest_catalogue().await?)
            })
        } else {
            Ok(None)
        };
    let loaded = loaded?;
    let index = loaded.as_ref().map(|(_, c)| fest::Index::new(c));
    let cat = loaded
        .as_ref()
        .zip(index.as_ref())
        .map(|((_, c), i)| (c, i));
    let completed = contract::catalogue::complete(&body, cat).map_err(Failure::BadInput)?;
    let request = completed.as_ref().map_or(&body[..], |(b, _)| &b[..]);
    let req = contract::parse_decision_request(request).map_err(Failure::BadInput)?;
    let mut decision = decide::decide(&req, rules).map_err(|e| Failure::BadInput(e.into()))?;
    let summary = completed.map(|(_, r)| contract::catalogue::annotate(&mut decision, r));
    let mut out = Vec::with_capacity(4096);
    contract::write_decision(&decision, &mut out);
    if let Some(s) = &summary {
        out = contract::catalogue::with_summary(out, s);
    }
    out.push(b'\n');
    std::io::stdout()
        .lock()
        .write_all(&out)
        .context("skriver til standard ut")?;
    Ok(())
}

/// `legemiddel fest bench`: parse a generated file from memory, build the index, and time
/// look-ups of each kind.
pub fn bench(packages: usize) -> Result<(), Failure> {
    let mut bytes = Vec::new();
    let opts = fest::generate::Options {
        packages,
        ..Default::default()
    };
    fest::generate::write(&mut bytes, &opts).context("genererer")?;
    let start = Instant::now();
    let cat = fest::parse(&bytes[..], |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parsed = start.elapsed();
    let start = Instant::now();
    let index = fest::Index::new(&cat);
    let indexed = start.elapsed();
    println!(
        "fil {} MB, {} pakninger: lest på {:.2} s ({:.0} MB/s), indeks bygget på {:.1} ms",
        bytes.len() >> 20,
        cat.packages.len(),
        parsed.as_secs_f64(),
        bytes.len() as f64 / 1_048_576.0 / parsed.as_secs_f64(),
        indexed.as_secs_f64() * 1000.0
    );
    let varenrs: Vec<String> = cat
        .packages
        .iter()
        .step_by(7)
        .map(|p| p.varenr.clone())
        .collect();
    let queries: [(&str, Vec<String>); 4] = [
        ("varenummer", varenrs),
        (
            "navn",
            vec![
                "norvasc".into(),
                "amlodipin 10".into(),
                "atorvastatin krka 40".into(),
                "paracet".into(),
            ],
        ),
        (
            "ATC-prefiks",
            vec!["c08".into(), "n02a".into(), "l04ab".into()],
        ),
        ("ingen treff", vec!["finnesikke".into()]),
    ];
    for (kind, qs) in &queries {
        let mut times: Vec<f64> = Vec::with_capacity(2000);
        for i in 0..2000 {
            let q = &qs[i % qs.len()];
            let t = Instant::now();
            let hits = index.search(q, 50);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(hits);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "oppslag på {kind:<12} median {:>7.1} µs, p99 {:>7.1} µs, maks {:>7.1} µs (2000 oppslag, høyst 50 treff)",
            times[1000], times[1980], times[1999]
        );
    }
    Ok(())
}
