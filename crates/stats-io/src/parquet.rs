//! Dispensing records from a Parquet file, a column at a time: each row group's nine columns are
//! decoded in bulk by the parquet crate's column readers (no row objects, no text round trip),
//! the row groups shared among the cores, and every row checked by the same
//! [`stats::read::from_parts`] a CSV line goes through. The columns are found by name; a DATE
//! or a `YYYY-MM-DD` text, packages as DOUBLE, FLOAT, an integer or text, booleans or text.

use std::collections::HashMap;
use std::path::Path;

use domain::Date;
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use stats::read::{HEADER, RecordRef};

use crate::{InputError, bad};

/// One column of a row group: the values present, and for each row the index of its value
/// (`NONE` for a missing one).
struct Column {
    values: Values,
    index: Vec<u32>,
}

enum Values {
    Text(Vec<ByteArray>),
    F64(Vec<f64>),
    F32(Vec<f32>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

const NONE: u32 = u32::MAX;

fn read_column(
    rg: &dyn RowGroupReader,
    at: usize,
    rows: usize,
    max_def: i16,
) -> parquet::errors::Result<Column> {
    let mut defs: Vec<i16> = Vec::with_capacity(rows);
    let levels = (max_def > 0).then_some(&mut defs);
    macro_rules! read {
        ($reader:expr, $variant:ident) => {{
            let mut values = Vec::with_capacity(rows);
            let mut r = $reader;
            let mut levels = levels;
            let mut got = 0;
            while got < rows {
                let (n, _, _) =
                    r.read_records(rows - got, levels.as_deref_mut(), None, &mut values)?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            Values::$variant(values)
        }};
    }
    let values = match rg.get_column_reader(at)? {
        ColumnReader::ByteArrayColumnReader(r) => read!(r, Text),
        ColumnReader::DoubleColumnReader(r) => read!(r, F64),
        ColumnReader::FloatColumnReader(r) => read!(r, F32),
        ColumnReader::Int32ColumnReader(r) => read!(r, I32),
        ColumnReader::Int64ColumnReader(r) => read!(r, I64),
        ColumnReader::BoolColumnReader(r) => read!(r, Bool),
        _ => {
            return Err(parquet::errors::ParquetError::General(
                "kolonnetypen støttes ikke (ventet tekst, tall, dato eller boolsk)".into(),
            ));
        }
    };
    let index = if max_def > 0 {
        let mut next = 0u32;
        defs.iter()
            .map(|&d| {
                if d == max_def {
                    next += 1;
                    next - 1
                } else {
                    NONE
                }
            })
            .collect()
    } else {
        (0..rows as u32).collect()
    };
    Ok(Column { values, index })
}

/// A value of a row, as what the record needs.
enum Cell<'a> {
    Missing,
    Text(&'a str),
    Number(f64),
    Int(i64),
    Bool(bool),
}

impl Column {
    fn cell(&self, row: usize) -> Result<Cell<'_>, &'static str> {
        let i = self.index[row];
        if i == NONE {
            return Ok(Cell::Missing);
        }
        let i = i as usize;
        Ok(match &self.values {
            Values::Text(v) => {
                Cell::Text(std::str::from_utf8(v[i].data()).map_err(|_| "teksten er ikke UTF-8")?)
            }
            Values::F64(v) => Cell::Number(v[i]),
            Values::F32(v) => Cell::Number(f64::from(v[i])),
            Values::I32(v) => Cell::Int(i64::from(v[i])),
            Values::I64(v) => Cell::Int(v[i]),
            Values::Bool(v) => Cell::Bool(v[i]),
        })
    }
}

/// The row's values as a record.
struct Row<'c> {
    /// The nine columns; `patient` and `varenr` are empty when not read.
    columns: &'c [Column],
    identity: bool,
    epoch: Date,
    last_date: std::cell::Cell<(i64, Date)>,
}

impl<'c> Row<'c> {
    fn record(&self, row: usize) -> Result<RecordRef<'c>, (&'static str, String)> {
        let c = |k: usize| {
            self.columns[k]
                .cell(row)
                .map_err(|m| (NAMES[k], m.to_string()))
        };
        let text = |k: usize| -> Result<&'c str, (&'static str, String)> {
            match c(k)? {
                Cell::Text(t) => Ok(t),
                Cell::Missing => Ok(""),
                _ => Err((NAMES[k], "ventet tekst (en varenummer- eller kodekolonne lagret som tall mister innledende nuller)".into())),
            }
        };
        let date = match c(0)? {
            // DATE: days since 1970-01-01. Consecutive rows share their day, so the last is kept.
            Cell::Int(days) => {
                let (d, date) = self.last_date.get();
                if d == days {
                    date
                } else {
                    let date = u32::try_from(days)
                        .ok()
                        .and_then(|n| self.epoch.plus_days(n))
                        .ok_or(("date", format!("dagnummer {days} er utenfor kalenderen")))?;
                    self.last_date.set((days, date));
                    date
                }
            }
            Cell::Text(t) => Date::parse(t.trim()).map_err(|e| ("date", e.to_string()))?,
            _ => return Err(("date", "ventet en dato".into())),
        };
        let packages = match c(5)? {
            Cell::Number(x) => {
                let milli = (x * 1000.0).round();
                if !x.is_finite() || (x * 1000.0 - milli).abs() > 1e-6 {
                    return Err((
                        "packages",
                        format!("ventet et antall pakninger (høyst tre desimaler), fikk {x}"),
                    ));
                }
                milli as i64
            }
            Cell::Int(n) => n.saturating_mul(1000),
            Cell::Text(t) => stats::read::milli_packages(t).ok_or((
                "packages",
                format!("ventet et antall pakninger (høyst tre desimaler), fikk «{t}»"),
            ))?,
            _ => return Err(("packages", "mangler".into())),
        };
        let ddd = match c(6)? {
            Cell::Missing => None,
            Cell::Number(x) => Some(x),
            Cell::Int(n) => Some(n as f64),
            Cell::Text(t) if t.trim().is_empty() || t.trim() == "-" => None,
            Cell::Text(t) => Some(t.trim().replace(',', ".").parse::<f64>().map_err(|_| {
                (
                    "ddd_per_package",
                    format!("ventet DDD per pakning eller tomt, fikk «{t}»"),
                )
            })?),
            Cell::Bool(_) => return Err(("ddd_per_package", "ventet et tall".into())),
        };
        let unregistered = match c(7)? {
            Cell::Bool(b) => b,
            Cell::Int(n @ (0 | 1)) => n == 1,
            Cell::Text("true" | "1" | "ja") => true,
            Cell::Text("false" | "0" | "nei") => false,
            _ => return Err(("unregistered", "ventet true eller false".into())),
        };
        if self.identity {
            stats::read::from_parts(
                date,
                text(1)?,
                text(2)?,
                text(3)?,
                text(4)?,
                packages,
                ddd,
                unregistered,
                text(8)?,
            )
        } else {
            stats::read::without_identity(
                date,
                text(3)?,
                text(4)?,
                packages,
                ddd,
                unregistered,
                text(8)?,
            )
        }
        .map_err(|e| (e.column, e.message))
    }
}

/// The row groups of a file, and how the reading threads share them.
struct Groups {
    groups: usize,
    /// The first row of each group, for the row numbers in errors.
    first_row: Vec<u64>,
    total: u64,
    /// One per core (at most eight), no more than there are groups.
    threads: usize,
}

impl Groups {
    fn of(meta: &parquet::file::metadata::ParquetMetaData) -> Groups {
        let groups = meta.num_row_groups();
        let mut first_row = Vec::with_capacity(groups);
        let mut total = 0u64;
        for g in 0..groups {
            first_row.push(total);
            total += meta.row_group(g).num_rows() as u64;
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
            .min(groups.max(1));
        Groups {
            groups,
            first_row,
            total,
            threads,
        }
    }
}

const NAMES: [&str; 9] = [
    "date",
    "patient",
    "varenr",
    "atc",
    "substance",
    "packages",
    "ddd_per_package",
    "unregistered",
    "species",
];

/// Folds every record of the Parquet file at `path` into one `T` per thread (made by `init`,
/// fed by `add`); returns them, to be merged, and the number of records. `option` names the
/// file's option in errors, and a wrong value is named by its row and column. Without
/// `identity` the patient and varenummer columns are not read (the records have them empty).
pub fn fold<T: Send>(
    path: &Path,
    option: &str,
    identity: bool,
    init: impl Fn() -> T + Sync,
    add: impl Fn(&mut T, &RecordRef<'_>) + Sync,
    progress: crate::Progress<'_>,
) -> Result<(Vec<T>, u64), InputError> {
    debug_assert_eq!(NAMES.join(","), HEADER);
    let open = || -> Result<SerializedFileReader<std::fs::File>, InputError> {
        let f = std::fs::File::open(path).map_err(|e| InputError::io(path, e))?;
        SerializedFileReader::new(f).map_err(|e| {
            bad(
                option.into(),
                format!("ikke en Parquet-fil som kan leses: {e}"),
            )
        })
    };
    let reader = open()?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let mut at = [0usize; 9];
    let mut max_def = [0i16; 9];
    for (k, name) in NAMES.iter().enumerate() {
        let i = (0..schema.num_columns())
            .find(|&i| schema.column(i).name() == *name)
            .ok_or_else(|| {
                bad(
                    option.into(),
                    format!("Parquet-filen mangler kolonnen «{name}» (ventet {HEADER})"),
                )
            })?;
        at[k] = i;
        max_def[k] = schema.column(i).max_def_level();
        if schema.column(i).max_rep_level() > 0 {
            return Err(bad(
                option.into(),
                format!("kolonnen «{name}» er en liste; ventet én verdi per rad"),
            ));
        }
    }
    let Groups {
        groups,
        first_row,
        total,
        threads,
    } = Groups::of(meta);
    let epoch =
        Date::from_ymd(1970, 1, 1).ok_or_else(|| bad("date".into(), "kalenderen mangler 1970"))?;
    let done = crate::Done::default();
    let results: Vec<Result<T, InputError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (init, add, open, first_row, done) = (&init, &add, &open, &first_row, &done);
                scope.spawn(move || -> Result<T, InputError> {
                    let reader = open()?;
                    let mut acc = init();
                    for g in (t..groups).step_by(threads) {
                        let rg = reader
                            .get_row_group(g)
                            .map_err(|e| bad(option.into(), format!("Parquet: {e}")))?;
                        let rows = rg.metadata().num_rows() as usize;
                        let mut columns = Vec::with_capacity(9);
                        for k in 0..9 {
                            if !identity && (k == 1 || k == 2) {
                                columns.push(Column {
                                    values: Values::Text(Vec::new()),
                                    index: Vec::new(),
                                });
                                continue;
                            }
                            columns.push(
                                read_column(rg.as_ref(), at[k], rows, max_def[k]).map_err(|e| {
                                    bad(
                                        format!("{option}, kolonne {}", NAMES[k]),
                                        format!("Parquet: {e}"),
                                    )
                                })?,
                            );
                        }
                        let row = Row {
                            columns: &columns,
                            identity,
                            epoch,
                            last_date: std::cell::Cell::new((i64::MIN, epoch)),
                        };
                        for i in 0..rows {
                            match row.record(i) {
                                Ok(r) => add(&mut acc, &r),
                                Err((column, message)) => {
                                    return Err(bad(
                                        format!(
                                            "{option}, rad {}, {column}",
                                            first_row[g] + i as u64 + 1
                                        ),
                                        message,
                                    ));
                                }
                            }
                        }
                        done.add(rows as u64, rows as u64);
                    }
                    Ok(acc)
                })
            })
            .collect();
        crate::join_reporting(handles, &done, total, progress)
            .into_iter()
            .map(|h| h.unwrap_or_else(|_| Err(bad(option.into(), "en lesetråd stoppet"))))
            .collect()
    });
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        out.push(r?);
    }
    Ok((out, total))
}

/// **Table 2, 6 or 7 by dictionary** — the fast path for a file whose columns have the types a
/// columnar writer gives them (DATE, DOUBLE, BOOLEAN, text): the text columns are read as
/// dictionary indices ([`crate::dictionary`]), each distinct ATC code, substance and species
/// checked once, every row's numbers checked, and the sums made per (ATC, substance) index
/// before a single string is touched. `None` when the file's types are others (the caller then
/// takes [`fold`], which reads any of them).
pub fn top(
    path: &Path,
    option: &str,
    year: i32,
    selection: stats::top::Selection,
    progress: crate::Progress<'_>,
) -> Result<Option<(stats::top::TopTable, u64)>, InputError> {
    use parquet::basic::{LogicalType, Type as Physical};
    use stats::top::TopTable;
    let f = std::fs::File::open(path).map_err(|e| InputError::io(path, e))?;
    let reader = SerializedFileReader::new(f).map_err(|e| {
        bad(
            option.into(),
            format!("ikke en Parquet-fil som kan leses: {e}"),
        )
    })?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    // date, atc, substance, packages, ddd_per_package, unregistered, species.
    const USED: [usize; 7] = [0, 3, 4, 5, 6, 7, 8];
    let mut at = [0usize; 9];
    let mut max_def = [0i16; 9];
    for k in USED {
        let Some(i) = (0..schema.num_columns()).find(|&i| schema.column(i).name() == NAMES[k])
        else {
            return Ok(None);
        };
        let c = schema.column(i);
        let fits = c.max_rep_level() == 0
            && match k {
                // DATE as a logical type, or as the older converted type DuckDB writes.
                0 => {
                    c.physical_type() == Physical::INT32
                        && (matches!(c.logical_type_ref(), Some(LogicalType::Date))
                            || c.converted_type() == parquet::basic::ConvertedType::DATE)
                }
                5 | 6 => c.physical_type() == Physical::DOUBLE,
                7 => c.physical_type() == Physical::BOOLEAN,
                _ => c.physical_type() == Physical::BYTE_ARRAY,
            };
        if !fits {
            return Ok(None);
        }
        at[k] = i;
        max_def[k] = c.max_def_level();
    }
    let Groups {
        groups,
        first_row,
        total,
        threads,
    } = Groups::of(meta);
    // The year as days since 1970-01-01, and the days the calendar has.
    let epoch =
        Date::from_ymd(1970, 1, 1).ok_or_else(|| bad("date".into(), "kalenderen mangler 1970"))?;
    let days_to = |y: i32| Date::from_ymd(y, 1, 1).map(|d| d.days_since(epoch));
    let (start, end) = match (days_to(year), days_to(year + 1)) {
        (Some(s), Some(e)) => (s, e),
        _ => {
            return Err(bad(
                "--year".into(),
                format!("året {year} er utenfor kalenderen"),
            ));
        }
    };
    let (lowest, highest) = (
        days_to(1).unwrap_or(i64::MIN),
        days_to(9999).unwrap_or(i64::MAX),
    );
    let named = |g: usize, row: usize, column: &str, message: String| {
        bad(
            format!("{option}, rad {}, {column}", first_row[g] + row as u64 + 1),
            message,
        )
    };
    let done = crate::Done::default();
    let results: Vec<Result<TopTable, InputError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (named, at, max_def, done) = (&named, &at, &max_def, &done);
                scope.spawn(move || -> Result<TopTable, InputError> {
                    let f = std::fs::File::open(path).map_err(|e| InputError::io(path, e))?;
                    let reader = SerializedFileReader::new(f)
                        .map_err(|e| bad(option.into(), format!("Parquet: {e}")))?;
                    let mut table = TopTable::of(year, selection);
                    for g in (t..groups).step_by(threads) {
                        let parquet_err = |k: usize| {
                            move |e: parquet::errors::ParquetError| {
                                bad(format!("{option}, kolonne {}", NAMES[k]), format!("Parquet: {e}"))
                            }
                        };
                        let rg = reader.get_row_group(g).map_err(|e| bad(option.into(), format!("Parquet: {e}")))?;
                        let rows = rg.metadata().num_rows() as usize;
                        let text = |k: usize| {
                            let mut pages = rg.get_column_page_reader(at[k]).map_err(parquet_err(k))?;
                            crate::dictionary::read(pages.as_mut(), rows, max_def[k]).map_err(parquet_err(k))
                        };
                        let (atc, substance, species) = (text(3)?, text(4)?, text(8)?);
                        let number = |k: usize| read_column(rg.as_ref(), at[k], rows, max_def[k]).map_err(parquet_err(k));
                        let (date, packages, ddd, unregistered) = (number(0)?, number(5)?, number(6)?, number(7)?);
                        let (Values::I32(days), Values::F64(packs), Values::F64(ddds), Values::Bool(unreg)) =
                            (&date.values, &packages.values, &ddd.values, &unregistered.values)
                        else {
                            return Err(bad(option.into(), "uventet kolonnetype"));
                        };
                        // Each distinct text checked once; a wrong one named at its first row.
                        let first_use = |col: &crate::dictionary::TextColumn, i: usize| {
                            col.index.iter().position(|&x| x as usize == i).unwrap_or(0)
                        };
                        let mut atcs = Vec::with_capacity(atc.values.len());
                        for (i, v) in atc.values.iter().enumerate() {
                            let checked = std::str::from_utf8(v)
                                .map_err(|_| stats::read::FieldError { column: "atc", message: "teksten er ikke UTF-8".into() })
                                .and_then(|s| stats::read::checked_atc(s).map(|c| c.into_owned()));
                            match checked {
                                Ok(a) => atcs.push(a),
                                // Not used by any row of this group: not an error of the file's rows.
                                Err(_) if !atc.index.contains(&(i as u32)) => atcs.push(String::new()),
                                Err(e) => return Err(named(g, first_use(&atc, i), "atc", e.message)),
                            }
                        }
                        let mut substances = Vec::with_capacity(substance.values.len());
                        for (i, v) in substance.values.iter().enumerate() {
                            match std::str::from_utf8(v) {
                                Ok(s) => substances.push(s.trim().to_string()),
                                Err(_) => return Err(named(g, first_use(&substance, i), "substance", "teksten er ikke UTF-8".into())),
                            }
                        }
                        let mut kinds = Vec::with_capacity(species.values.len());
                        for (i, v) in species.values.iter().enumerate() {
                            match std::str::from_utf8(v).ok().map(stats::read::checked_species) {
                                Some(Ok(s)) => kinds.push(Some(s)),
                                _ if !species.index.contains(&(i as u32)) => kinds.push(None),
                                Some(Err(e)) => return Err(named(g, first_use(&species, i), "species", e.message)),
                                None => return Err(named(g, first_use(&species, i), "species", "teksten er ikke UTF-8".into())),
                            }
                        }
                        // Sums per (ATC, substance) index: dispensings, packages, Σ DDD, any DDD.
                        let mut sums: HashMap<u64, (u64, i64, f64, bool)> = HashMap::new();
                        for row in 0..rows {
                            let value = |c: &Column| c.index[row];
                            let d = value(&date);
                            if d == NONE {
                                return Err(named(g, row, "date", "mangler".into()));
                            }
                            let day = i64::from(days[d as usize]);
                            if !(lowest..highest).contains(&day) {
                                return Err(named(g, row, "date", format!("dagnummer {day} er utenfor kalenderen")));
                            }
                            let p = value(&packages);
                            let milli = (p != NONE)
                                .then(|| packs[p as usize])
                                .and_then(stats::read::milli_packages_of)
                                .ok_or_else(|| named(g, row, "packages", "ventet et antall pakninger (høyst tre desimaler, ikke negativt)".into()))?;
                            let x = value(&ddd);
                            let per_package = if x == NONE { None } else { Some(ddds[x as usize]) };
                            if let Some(v) = per_package
                                && !(v.is_finite() && v > 0.0)
                            {
                                return Err(named(g, row, "ddd_per_package", format!("ventet DDD per pakning (over 0) eller tomt, fikk «{v}»")));
                            }
                            let u = value(&unregistered);
                            if u == NONE {
                                return Err(named(g, row, "unregistered", "ventet true eller false".into()));
                            }
                            let (a, s, k) = (atc.index[row], substance.index[row], species.index[row]);
                            if a == crate::dictionary::NULL {
                                return Err(named(g, row, "atc", "ventet en ATC- eller ATCvet-kode, fikk «»".into()));
                            }
                            let Some(kind) = (k != crate::dictionary::NULL).then(|| kinds[k as usize]).flatten() else {
                                return Err(named(g, row, "species", "ventet human eller vet, fikk «»".into()));
                            };
                            if !(unreg[u as usize] && (start..end).contains(&day) && table.takes(kind, &atcs[a as usize])) {
                                continue;
                            }
                            let s = if s == crate::dictionary::NULL { u32::MAX } else { s };
                            let e = sums.entry(u64::from(a) << 32 | u64::from(s)).or_default();
                            e.0 += 1;
                            e.1 += milli;
                            if let Some(v) = per_package {
                                e.2 += milli as f64 / 1000.0 * v;
                                e.3 = true;
                            }
                        }
                        for (key, (n, p, x, any)) in sums {
                            let (a, s) = ((key >> 32) as usize, (key & 0xffff_ffff) as u32);
                            let substance = if s == u32::MAX { "" } else { &substances[s as usize] };
                            table.add_line(&atcs[a], substance, n, p, any.then_some(x));
                        }
                        done.add(rows as u64, rows as u64);
                    }
                    Ok(table)
                })
            })
            .collect();
        crate::join_reporting(handles, &done, total, progress)
            .into_iter()
            .map(|h| h.unwrap_or_else(|_| Err(bad(option.into(), "en lesetråd stoppet"))))
            .collect()
    });
    let mut table = TopTable::of(year, selection);
    for r in results {
        table.merge(r?);
    }
    Ok(Some((table, total)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;

    use super::*;

    /// Two rows of melatonin in 2024 (1 and 0.5 packages, DDD 30), `unregistered` as BOOLEAN
    /// or as text.
    fn write(path: &Path, boolean: bool) {
        let unregistered = if boolean { "boolean" } else { "binary" };
        let message = format!(
            "message u {{ optional int32 date (DATE); optional binary patient (UTF8); optional binary varenr (UTF8);
               optional binary atc (UTF8); optional binary substance (UTF8); optional double packages;
               optional double ddd_per_package; optional {unregistered} unregistered; optional binary species (UTF8); }}"
        );
        let schema = Arc::new(parquet::schema::parser::parse_message_type(&message).unwrap());
        let mut w = SerializedFileWriter::new(
            std::fs::File::create(path).unwrap(),
            schema,
            Arc::new(WriterProperties::builder().build()),
        )
        .unwrap();
        let mut g = w.next_row_group().unwrap();
        let levels = [1i16, 1];
        for col in 0..9 {
            let mut c = g.next_column().unwrap().unwrap();
            let text = |v: [&str; 2]| v.map(ByteArray::from).to_vec();
            match col {
                0 => c
                    .typed::<Int32Type>()
                    .write_batch(&[19_724, 19_725], Some(&levels), None),
                5 => c
                    .typed::<DoubleType>()
                    .write_batch(&[1.0, 0.5], Some(&levels), None),
                6 => c
                    .typed::<DoubleType>()
                    .write_batch(&[30.0, 30.0], Some(&levels), None),
                7 if boolean => {
                    c.typed::<BoolType>()
                        .write_batch(&[true, true], Some(&levels), None)
                }
                7 => c.typed::<ByteArrayType>().write_batch(
                    &text(["true", "true"]),
                    Some(&levels),
                    None,
                ),
                1 => {
                    c.typed::<ByteArrayType>()
                        .write_batch(&text(["p1", "p2"]), Some(&levels), None)
                }
                2 => c.typed::<ByteArrayType>().write_batch(
                    &text(["000123", "000123"]),
                    Some(&levels),
                    None,
                ),
                3 => c.typed::<ByteArrayType>().write_batch(
                    &text(["N05CH01", "N05CH01"]),
                    Some(&levels),
                    None,
                ),
                4 => c.typed::<ByteArrayType>().write_batch(
                    &text(["melatonin", "melatonin"]),
                    Some(&levels),
                    None,
                ),
                _ => c.typed::<ByteArrayType>().write_batch(
                    &text(["human", "human"]),
                    Some(&levels),
                    None,
                ),
            }
            .unwrap();
            c.close().unwrap();
        }
        g.close().unwrap();
        w.close().unwrap();
    }

    #[test]
    fn a_columnar_writers_types_take_the_dictionary_path_and_others_do_not() {
        let dir = std::env::temp_dir().join(format!("legemiddel-stats-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (fast, slow) = (dir.join("fast.parquet"), dir.join("slow.parquet"));
        write(&fast, true);
        write(&slow, false);
        let selection = stats::top::Selection::Human;
        let (table, n) = top(&fast, "--input", 2024, selection, &mut |_, _, _| {})
            .unwrap()
            .expect("the dictionary path");
        assert_eq!(n, 2);
        let rows = table.rows(10, &Default::default());
        assert_eq!(
            (rows[0].dispensings, rows[0].packages, rows[0].ddd),
            (2, 1500, Some(45.0))
        );
        assert!(
            top(&slow, "--input", 2024, selection, &mut |_, _, _| {})
                .unwrap()
                .is_none(),
            "text booleans: the row path"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
