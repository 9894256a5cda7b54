//! Parquet files read a row at a time as named text fields, so each reader checks a Parquet row
//! with the same code that checks a CSV line. Uncompressed or Snappy (DuckDB's default); the
//! parquet crate's row reader, without Arrow.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use contract::ContractError;

use crate::Failure;

/// Calls `each` with the 1-based row number and the row's fields as text (a DATE as
/// `YYYY-MM-DD`, a missing value as empty); `option` names the file's option in errors.
pub fn each_row(
    path: &Path,
    option: &str,
    mut each: impl FnMut(usize, &BTreeMap<String, String>) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let bad =
        |field: String, message: String| Failure::BadInput(ContractError::new(&field, message));
    let f = std::fs::File::open(path).with_context(|| format!("leser {}", path.display()))?;
    let reader = SerializedFileReader::new(f).map_err(|e| {
        bad(
            option.into(),
            format!("ikke en Parquet-fil som kan leses: {e}"),
        )
    })?;
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| bad(option.into(), format!("Parquet: {e}")))?;
    let epoch = domain::Date::parse("1970-01-01").map_err(|e| Failure::Other(e.into()))?;
    let mut count = 0u64;
    let mut text = BTreeMap::new();
    for (i, row) in rows.enumerate() {
        let row =
            row.map_err(|e| bad(format!("{option}, rad {}", i + 1), format!("Parquet: {e}")))?;
        text.clear();
        for (name, field) in row.get_column_iter() {
            let value = match field {
                Field::Date(d) => u32::try_from(*d)
                    .ok()
                    .and_then(|d| epoch.plus_days(d))
                    .map_or_else(String::new, |d| d.to_string()),
                Field::Str(s) => s.clone(),
                Field::Null => String::new(),
                other => other.to_string(),
            };
            text.insert(name.clone(), value);
        }
        each(i + 1, &text)?;
        count += 1;
    }
    Ok(count)
}
