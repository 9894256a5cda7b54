//! A text column of a row group as a dictionary and one index per row, read from the pages
//! themselves: Parquet writers (DuckDB, Arrow, Spark) store low-cardinality text such as ATC
//! codes, substances and species as a dictionary page and, per row, a bit-packed index into it.
//! Keeping the indices — rather than a copy of the text per row, as the column reader gives —
//! lets a table check each distinct text once and sum by index. Pages that fell back to plain
//! encoding are interned into the same dictionary, so every page reads the same way.
//!
//! The formats are the Parquet specification's: data pages v1 (levels RLE with a length
//! prefix) and v2 (levels without), the RLE / bit-packing hybrid, PLAIN byte arrays.

use std::collections::HashMap;

use parquet::basic::Encoding;
use parquet::column::page::{Page, PageReader};
use parquet::errors::{ParquetError, Result};

/// No value in this row.
pub const NULL: u32 = u32::MAX;

/// A text column: its distinct values, and for each row the index of its value (or [`NULL`]).
pub struct TextColumn {
    /// The distinct values, as bytes (checked by the caller).
    pub values: Vec<Vec<u8>>,
    /// One per row.
    pub index: Vec<u32>,
}

fn err(message: impl Into<String>) -> ParquetError {
    ParquetError::General(message.into())
}

/// Reads an unsigned LEB128 varint.
fn varint(buf: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*pos).ok_or_else(|| err("avkortet varint"))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
        if shift > 63 {
            return Err(err("for lang varint"));
        }
    }
}

/// Decodes `count` values of `bit_width` bits from the RLE / bit-packing hybrid in `buf`,
/// appending them to `out`.
pub fn hybrid(buf: &[u8], bit_width: u8, count: usize, out: &mut Vec<u32>) -> Result<()> {
    if bit_width > 32 {
        return Err(err("bitbredde over 32"));
    }
    let target = out.len() + count;
    let mut pos = 0;
    let bytes_per_value = usize::from(bit_width).div_ceil(8);
    while out.len() < target {
        let header = varint(buf, &mut pos)?;
        if header & 1 == 0 {
            // An RLE run: one value repeated.
            let run = (header >> 1) as usize;
            let mut v = 0u32;
            for i in 0..bytes_per_value {
                v |= u32::from(*buf.get(pos + i).ok_or_else(|| err("avkortet RLE-verdi"))?)
                    << (8 * i);
            }
            pos += bytes_per_value;
            let n = run.min(target - out.len());
            out.extend(std::iter::repeat_n(v, n));
        } else {
            // Bit-packed groups of eight, least significant bit first.
            let groups = (header >> 1) as usize;
            let len = groups * usize::from(bit_width);
            let packed = buf
                .get(pos..pos + len)
                .ok_or_else(|| err("avkortet bitpakket blokk"))?;
            pos += len;
            let n = (groups * 8).min(target - out.len());
            if bit_width == 0 {
                out.extend(std::iter::repeat_n(0, n));
                continue;
            }
            let mask = if bit_width == 32 {
                u32::MAX
            } else {
                (1u32 << bit_width) - 1
            };
            let mut acc = 0u64;
            let mut bits = 0u32;
            let mut bytes = packed.iter();
            for _ in 0..n {
                while bits < u32::from(bit_width) {
                    acc |= u64::from(*bytes.next().unwrap_or(&0)) << bits;
                    bits += 8;
                }
                out.push((acc as u32) & mask);
                acc >>= bit_width;
                bits -= u32::from(bit_width);
            }
        }
    }
    Ok(())
}

/// PLAIN byte arrays: a 4-byte little-endian length, then the bytes; `count` of them.
fn plain(buf: &[u8], count: usize, mut each: impl FnMut(&[u8])) -> Result<()> {
    let mut pos = 0;
    for _ in 0..count {
        let len = buf
            .get(pos..pos + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| err("avkortet PLAIN-verdi"))?;
        pos += 4;
        each(
            buf.get(pos..pos + len)
                .ok_or_else(|| err("avkortet PLAIN-verdi"))?,
        );
        pos += len;
    }
    Ok(())
}

fn bit_width(max: i16) -> u8 {
    (16 - (max as u16).leading_zeros()) as u8
}

/// Reads the column's pages into a dictionary and one index per row. `max_def` is the column's
/// maximum definition level (0: required, 1: optional); nested (repeated) columns are refused
/// by the caller.
pub fn read(pages: &mut dyn PageReader, rows: usize, max_def: i16) -> Result<TextColumn> {
    let mut values: Vec<Vec<u8>> = Vec::new();
    // The dictionary page's values, then plain values interned after them.
    let mut interned: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut dict_len = 0usize;
    let mut index = Vec::with_capacity(rows);
    let mut defs: Vec<u32> = Vec::new();
    let mut present: Vec<u32> = Vec::new();
    let def_width = bit_width(max_def);
    while let Some(page) = pages.get_next_page()? {
        let (buf, num_values, encoding, levels) = match page {
            Page::DictionaryPage {
                buf, num_values, ..
            } => {
                values.clear();
                interned.clear();
                plain(&buf, num_values as usize, |v| values.push(v.to_vec()))?;
                dict_len = values.len();
                continue;
            }
            Page::DataPage {
                buf,
                num_values,
                encoding,
                def_level_encoding,
                ..
            } => {
                if max_def > 0 && def_level_encoding != Encoding::RLE {
                    return Err(err(format!(
                        "definisjonsnivåer i {def_level_encoding} støttes ikke"
                    )));
                }
                (buf, num_values as usize, encoding, None)
            }
            Page::DataPageV2 {
                buf,
                num_values,
                encoding,
                def_levels_byte_len,
                rep_levels_byte_len,
                ..
            } => (
                buf,
                num_values as usize,
                encoding,
                Some((rep_levels_byte_len as usize, def_levels_byte_len as usize)),
            ),
        };
        // Definition levels: which rows have a value.
        let mut pos = 0;
        defs.clear();
        if max_def > 0 {
            let (start, len) = match levels {
                None => {
                    let len = buf
                        .get(0..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                        .ok_or_else(|| err("avkortede definisjonsnivåer"))?;
                    (4, len)
                }
                Some((rep, def)) => (rep, def),
            };
            let part = buf
                .get(start..start + len)
                .ok_or_else(|| err("avkortede definisjonsnivåer"))?;
            hybrid(part, def_width, num_values, &mut defs)?;
            pos = start + len;
        } else if let Some((rep, def)) = levels {
            pos = rep + def;
        }
        let non_null = if max_def > 0 {
            defs.iter().filter(|&&d| d == max_def as u32).count()
        } else {
            num_values
        };
        let data = buf.get(pos..).ok_or_else(|| err("avkortet side"))?;
        present.clear();
        match encoding {
            Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY => {
                let width = *data.first().ok_or_else(|| err("avkortet side"))?;
                hybrid(&data[1..], width, non_null, &mut present)?;
                if let Some(bad) = present.iter().find(|&&i| i as usize >= dict_len) {
                    return Err(err(format!("ordboksindeks {bad} utenfor ordboken")));
                }
            }
            Encoding::PLAIN => {
                if interned.is_empty() {
                    for (i, v) in values.iter().enumerate() {
                        interned.insert(v.clone(), i as u32);
                    }
                }
                plain(data, non_null, |v| {
                    let i = match interned.get(v) {
                        Some(&i) => i,
                        None => {
                            values.push(v.to_vec());
                            let i = (values.len() - 1) as u32;
                            interned.insert(v.to_vec(), i);
                            i
                        }
                    };
                    present.push(i);
                })?;
                dict_len = values.len();
            }
            other => return Err(err(format!("tekstkoding {other} støttes ikke"))),
        }
        if max_def > 0 {
            let mut next = present.iter();
            for &d in &defs {
                index.push(if d == max_def as u32 {
                    *next.next().ok_or_else(|| err("færre verdier enn nivåer"))?
                } else {
                    NULL
                });
            }
        } else {
            index.extend_from_slice(&present);
        }
    }
    if index.len() != rows {
        return Err(err(format!("ventet {rows} rader, fant {}", index.len())));
    }
    Ok(TextColumn { values, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hybrid_decodes_runs_and_bit_packed_groups() {
        // An RLE run of five 3s (header 5<<1 = 10, value in one byte), then one bit-packed
        // group of eight 2-bit values 0,1,2,3,0,1,2,3 (header (1<<1)|1 = 3).
        let buf = [10u8, 3, 3, 0b11_10_01_00, 0b11_10_01_00];
        let mut out = Vec::new();
        hybrid(&buf, 2, 13, &mut out).unwrap();
        assert_eq!(out, [3, 3, 3, 3, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
        // Truncated input is an error, not a panic.
        assert!(hybrid(&[3u8], 2, 8, &mut Vec::new()).is_err());
        assert!(hybrid(&[0x80u8], 2, 8, &mut Vec::new()).is_err());
    }
}
