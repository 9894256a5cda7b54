//! Dispensing records from a Parquet file, a column at a time: each row group's nine columns are
//! decoded in bulk by the parquet crate's column readers (no row objects, no text round trip),
//! the row groups shared among the cores, and every row checked by the same
//! [`stats::read::from_parts`] a CSV line goes through. The columns are found by name; a DATE
//! or a `YYYY-MM-DD` text, packages as DOUBLE, FLOAT, an integer or text, booleans or text.

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
    let groups = meta.num_row_groups();
    // The first row of each group, for the row numbers in errors.
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
    let epoch =
        Date::from_ymd(1970, 1, 1).ok_or_else(|| bad("date".into(), "kalenderen mangler 1970"))?;
    let results: Vec<Result<T, InputError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (init, add, open, first_row) = (&init, &add, &open, &first_row);
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
                    }
                    Ok(acc)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(bad(option.into(), "en lesetråd stoppet")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        out.push(r?);
    }
    Ok((out, total))
}
