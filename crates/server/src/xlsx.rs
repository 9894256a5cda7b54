//! The overviews as XLSX workbooks (O4: what the trusts keep is read in spreadsheets).

use cases::overview::{Cell, Table};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One sheet: the title, the headings in bold, counts as numbers and money in kroner with two
/// decimals (from whole øre, so the sums in the sheet are exact).
pub fn table(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Oversikt")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("# ##0.00");
    sheet.write_string_with_format(0, 0, &table.title, &bold)?;
    for (c, heading) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(2, col(c), heading, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 3).unwrap_or(u32::MAX);
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(t) => sheet.write_string(r, col(c), t)?,
                Cell::Count(n) => sheet.write_number(r, col(c), *n as f64)?,
                Cell::Money(o) => {
                    sheet.write_number_with_format(r, col(c), o.0 as f64 / 100.0, &money)?
                }
                Cell::Credit(o) => {
                    sheet.write_number_with_format(r, col(c), -(o.0 as f64) / 100.0, &money)?
                }
            };
        }
    }
    sheet.autofit();
    book.save_to_buffer()
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}
