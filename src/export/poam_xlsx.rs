//! POA&M as an Excel workbook: the same rows and columns as the CSV (`poam::rows`), on one
//! sheet, every cell a literal string. Byte-reproducible: the zip entries carry fixed times
//! and docProps/core.xml's created/modified dates are the package's generation time.

use super::model::Package;
use super::poam::{clean_cow, row_count, rows_iter, COLUMNS};
use chrono::{DateTime, Utc};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

/// Excel keeps at most this many characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Rows on one sheet, header included.
const MAX_ROWS: usize = 1_048_576;

#[derive(Debug, thiserror::Error)]
pub enum XlsxExportError {
    #[error("POA&M XLSX: {0}")]
    Writer(#[from] XlsxError),
    #[error("POA&M XLSX: {0} rows do not fit on one sheet (Excel holds {max}); use poam-csv", max = MAX_ROWS)]
    TooManyRows(usize),
}

/// Evidence text, cleaned of control characters and cut to what a cell holds. No formula
/// guard is needed here (unlike the CSV): `write_string` always stores text, never a formula.
fn text(s: &str) -> String {
    text_owned(s.to_string())
}

/// `text` taking the cell's own string, which is passed on unchanged (no copy) when it is
/// plain and short, as nearly every cell is.
fn text_owned(s: String) -> String {
    let c = match clean_cow(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(c) => c,
    };
    // A string of at most MAX_CELL_CHARS bytes has at most that many characters.
    if c.len() <= MAX_CELL_CHARS || c.chars().count() <= MAX_CELL_CHARS {
        c
    } else {
        let mut t: String = c.chars().take(MAX_CELL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

pub fn render(pkg: &Package, generated: DateTime<Utc>) -> Result<Vec<u8>, XlsxExportError> {
    let today = generated.date_naive();
    let n = row_count(pkg);
    if n + 1 > MAX_ROWS {
        return Err(XlsxExportError::TooManyRows(n));
    }
    let mut wb = Workbook::new();
    // Without this the library stamps the wall clock into docProps/core.xml.
    let when = ExcelDateTime::from_timestamp(generated.timestamp())?;
    let props = DocProperties::new()
        .set_title(format!("POA&M {}", text(&pkg.name)))
        .set_author(text(&pkg.reviewer.name))
        .set_creation_datetime(&when);
    wb.set_properties(&props);
    let ws = wb.add_worksheet();
    ws.set_name("POA&M")?;
    let bold = Format::new().set_bold();
    for (c, name) in COLUMNS.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, col, *name, &bold)?;
        ws.set_column_width(col, if c == 1 || c == 8 { 60 } else { 18 })?;
    }
    // Rows are made one at a time and their strings moved into the sheet.
    for (r, row) in rows_iter(pkg, today).enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, v) in row.cells.into_iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, u16::try_from(c).unwrap_or(u16::MAX), text_owned(v))?;
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::testdata;
    use chrono::TimeZone;

    #[test]
    fn same_time_gives_the_same_bytes() {
        let pkg = testdata::package();
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        let a = render(&pkg, t).unwrap();
        let b = render(&pkg, t).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[..4], b"PK\x03\x04", "an xlsx is a zip file");
        let later = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
        assert_ne!(render(&pkg, later).unwrap(), a);
    }

    #[test]
    fn long_cells_are_cut_to_what_excel_holds() {
        let t = text(&"x".repeat(40_000));
        assert_eq!(t.chars().count(), MAX_CELL_CHARS);
        assert_eq!(text("a\u{1b}[31mb"), "ab");
    }
}
