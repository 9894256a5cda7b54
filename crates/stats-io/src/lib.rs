//! **Part 5's edge** — dispensing-records files read into the [`stats`] crate's tables: CSV a
//! line at a time (in parts, one per core, for a large file) and Parquet a column at a time
//! ([`parquet`]). Memory stays bounded by the tables, not the file: a year of a nation's
//! dispensings is tens of millions of rows. The command line and the analyst's web page call
//! the same functions, so they cannot disagree.
//!
//! Every wrong value is named by its line (or row) and column; nothing is skipped silently.

pub mod dictionary;
pub mod parquet;

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use stats::patients::PatientsTable;
use stats::read::{HEADER, RecordRef};
use stats::top::{Selection, TopTable};

/// Why a file could not be read.
#[derive(Debug)]
pub enum InputError {
    /// A value (or the header) is wrong: `field` names the option, line or row, and column.
    Bad {
        /// Where: `--input, linje 7, varenr`.
        field: String,
        /// What was expected.
        message: String,
    },
    /// The file could not be read.
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

impl InputError {
    fn io(path: &Path, error: std::io::Error) -> InputError {
        InputError::Io {
            path: path.display().to_string(),
            error,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Bad { field, message } => write!(f, "{field}: {message}"),
            InputError::Io { path, error } => write!(f, "leser {path}: {error}"),
        }
    }
}

impl std::error::Error for InputError {}

fn bad(field: String, message: impl Into<String>) -> InputError {
    InputError::Bad {
        field,
        message: message.into(),
    }
}

/// Whether the file is Parquet (by its extension).
pub fn is_parquet(input: &Path) -> bool {
    input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Counts the bytes read, for progress.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Progress of a long read: work done (bytes, or rows of a Parquet file), work in all, records
/// so far.
pub type Progress<'p> = &'p mut dyn FnMut(u64, u64, u64);

/// What the reading threads have done so far, for progress while they run.
#[derive(Default)]
pub(crate) struct Done {
    /// Bytes or rows.
    pub(crate) work: std::sync::atomic::AtomicU64,
    /// Records.
    pub(crate) records: std::sync::atomic::AtomicU64,
}

impl Done {
    pub(crate) fn add(&self, work: u64, records: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.work.fetch_add(work, Relaxed);
        self.records.fetch_add(records, Relaxed);
    }
}

/// Waits for scoped reading threads, telling `progress` how far they are every quarter second.
pub(crate) fn join_reporting<T>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, T>>,
    done: &Done,
    total: u64,
    progress: Progress<'_>,
) -> Vec<std::thread::Result<T>> {
    use std::sync::atomic::Ordering::Relaxed;
    while !handles.iter().all(|h| h.is_finished()) {
        progress(done.work.load(Relaxed), total, done.records.load(Relaxed));
        std::thread::park_timeout(std::time::Duration::from_millis(250));
    }
    handles.into_iter().map(|h| h.join()).collect()
}

/// Feeds every record of the CSV file `input` to `each`, a line at a time; `option` names the
/// file in errors; `progress` is called every 500 000 records.
pub fn csv_records(
    input: &Path,
    option: &str,
    mut each: impl FnMut(&RecordRef<'_>),
    progress: Progress<'_>,
) -> Result<u64, InputError> {
    let file = std::fs::File::open(input).map_err(|e| InputError::io(input, e))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            read: 0,
        },
    );
    let mut line = String::new();
    let mut n = 0u64;
    let mut count = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| InputError::io(input, e))?;
        if read == 0 {
            break;
        }
        n += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if n == 1 {
            if text.trim_start_matches('\u{feff}') != HEADER {
                return Err(bad(
                    format!("{option}, linje 1"),
                    format!("ventet overskriften {HEADER}"),
                ));
            }
            continue;
        }
        if text.is_empty() {
            continue;
        }
        let named = |e: stats::read::FieldError| {
            bad(format!("{option}, linje {n}, {}", e.column), e.message)
        };
        match stats::read::record_ref(text) {
            Some(r) => each(&r.map_err(named)?),
            // A quoted field: the owned reader.
            None => each(&stats::read::record(text).map_err(named)?.as_ref()),
        }
        count += 1;
        if count.is_multiple_of(500_000) {
            progress(reader.get_ref().read, total, count);
        }
    }
    Ok(count)
}

/// Whether a table reads the patient and the varenummer of a record ([`Identity::Needed`]: table 3
/// and the distinct varenumre) or not (tables 2, 6, 7): a Parquet file's columns that are not
/// needed are not decoded, and the records then have them empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// Read and checked.
    Needed,
    /// Left out.
    NotNeeded,
}

/// Folds every record of `input` (CSV or Parquet) into one `T` per part — a CSV file of at
/// least `split_from` bytes is read in as many parts as there are cores, a Parquet file by row
/// groups — and returns the parts, to be merged, with the number of records. A wrong line in a
/// part sends the whole CSV file through the one-thread reader, which names it.
pub fn fold<T: Send>(
    input: &Path,
    option: &str,
    identity: Identity,
    split_from: u64,
    init: impl Fn() -> T + Sync,
    add: impl Fn(&mut T, &RecordRef<'_>) + Sync,
    progress: Progress<'_>,
) -> Result<(Vec<T>, u64), InputError> {
    if is_parquet(input) {
        return parquet::fold(
            input,
            option,
            identity == Identity::Needed,
            init,
            add,
            progress,
        );
    }
    let sequential = |progress: Progress<'_>| -> Result<(Vec<T>, u64), InputError> {
        let mut acc = init();
        let count = csv_records(input, option, |r| add(&mut acc, r), progress)?;
        Ok((vec![acc], count))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let size = std::fs::metadata(input)
        .map_err(|e| InputError::io(input, e))?
        .len();
    if threads < 2 || size < split_from {
        return sequential(progress);
    }
    // Part boundaries just after a newline.
    let mut bounds = vec![0u64];
    for k in 1..threads as u64 {
        let mut f = std::fs::File::open(input).map_err(|e| InputError::io(input, e))?;
        f.seek(SeekFrom::Start(size * k / threads as u64))
            .map_err(|e| InputError::io(input, e))?;
        let mut r = BufReader::new(f);
        let mut skip = Vec::new();
        let n = r
            .read_until(b'\n', &mut skip)
            .map_err(|e| InputError::io(input, e))?;
        bounds.push((size * k / threads as u64 + n as u64).min(size));
    }
    bounds.push(size);
    let done = Done::default();
    let parts: Vec<Option<(T, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let (start, end) = (w[0], w[1]);
                let (init, add, done) = (&init, &add, &done);
                scope.spawn(move || -> Option<(T, u64)> {
                    let mut f = std::fs::File::open(input).ok()?;
                    f.seek(SeekFrom::Start(start)).ok()?;
                    let mut reader = BufReader::with_capacity(1 << 20, f.take(end - start));
                    let mut acc = init();
                    let mut line = String::new();
                    let mut count = 0u64;
                    let mut first = i == 0;
                    let (mut bytes, mut since) = (0u64, 0u64);
                    loop {
                        line.clear();
                        let n = reader.read_line(&mut line).ok()?;
                        if n == 0 {
                            break;
                        }
                        bytes += n as u64;
                        since += 1;
                        if since == 65_536 {
                            done.add(bytes, since);
                            (bytes, since) = (0, 0);
                        }
                        let text = line.trim_end_matches(['\n', '\r']);
                        if first {
                            first = false;
                            if text.trim_start_matches('\u{feff}') != HEADER {
                                return None;
                            }
                            continue;
                        }
                        if text.is_empty() {
                            continue;
                        }
                        match stats::read::record_ref(text) {
                            Some(Ok(r)) => add(&mut acc, &r),
                            Some(Err(_)) => return None,
                            None => add(&mut acc, &stats::read::record(text).ok()?.as_ref()),
                        }
                        count += 1;
                    }
                    Some((acc, count))
                })
            })
            .collect();
        join_reporting(handles, &done, size, progress)
            .into_iter()
            .map(|h| h.ok().flatten())
            .collect()
    });
    if parts.iter().any(Option::is_none) {
        return sequential(progress);
    }
    let mut out = Vec::with_capacity(parts.len());
    let mut count = 0;
    for (t, n) in parts.into_iter().flatten() {
        out.push(t);
        count += n;
    }
    Ok((out, count))
}

/// Below this a CSV file is read on one thread.
pub const SPLIT_FROM: u64 = 64 << 20;

/// Table 2 (or 6, 7 by `selection`) of `year` from the file, and the records read.
pub fn top(
    input: &Path,
    option: &str,
    year: i32,
    selection: Selection,
    split_from: u64,
    progress: Progress<'_>,
) -> Result<(TopTable, u64), InputError> {
    if is_parquet(input)
        && let Some(done) = parquet::top(input, option, year, selection, progress)?
    {
        return Ok(done);
    }
    let (parts, count) = fold(
        input,
        option,
        Identity::NotNeeded,
        split_from,
        || TopTable::of(year, selection),
        |t, r| t.add_ref(r),
        progress,
    )?;
    let mut table = TopTable::of(year, selection);
    for t in parts {
        table.merge(t);
    }
    Ok((table, count))
}

/// Table 3 from the file into `table` (its product list set), and the records read.
pub fn patients(
    input: &Path,
    option: &str,
    table: &mut PatientsTable,
    split_from: u64,
    progress: Progress<'_>,
) -> Result<u64, InputError> {
    let empty = table.clone();
    let (parts, count) = fold(
        input,
        option,
        Identity::Needed,
        split_from,
        || empty.clone(),
        |t, r| t.add_ref(r),
        progress,
    )?;
    for part in parts {
        table.merge(part);
    }
    Ok(count)
}
