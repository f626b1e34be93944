//! Tables for the PDF report: fixed column widths as fractions of the text width, header
//! row repeated on every page the table spans, cells wrapped to a few lines and truncated
//! with an ellipsis, so no string can overflow its column or the page.

use super::layout::{black, rgb, Doc, Face, CONTENT_W, MARGIN_X};

pub struct Column {
    pub title: &'static str,
    /// Fraction of the text width.
    pub width: f32,
}

pub const fn col(title: &'static str, width: f32) -> Column {
    Column { title, width }
}

pub const SIZE: f32 = 7.5;
const LH: f32 = SIZE * 1.3;
const PAD: f32 = 3.0;

fn header(doc: &mut Doc<'_>, cols: &[Column]) {
    let h = LH + 2.0 * PAD;
    doc.rect(MARGIN_X, doc.y - h, CONTENT_W, h, rgb(0.85, 0.88, 0.93));
    let mut x = MARGIN_X;
    let mut titles = Vec::with_capacity(cols.len());
    for c in cols {
        let w = c.width * CONTENT_W;
        titles.push((
            x + PAD,
            doc.fonts.fit(c.title, Face::Bold, SIZE, w - 2.0 * PAD),
        ));
        x += w;
    }
    let run: Vec<(f32, f32, &str)> = titles
        .iter()
        .map(|(x, t)| (*x, doc.y - PAD - SIZE, t.as_str()))
        .collect();
    doc.text_run(&run, Face::Bold, SIZE, black());
    doc.y -= h;
}

/// Draws `rows` (raw strings; sanitised here) under `cols`; each cell at most `max_lines`.
pub fn table<I>(doc: &mut Doc<'_>, cols: &[Column], rows: I, max_lines: usize)
where
    I: IntoIterator<Item = Vec<String>>,
{
    doc.ensure(3.0 * (LH + 2.0 * PAD));
    header(doc, cols);
    let mut shade = false;
    for row in rows {
        let cells: Vec<Vec<String>> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let raw = row.get(i).map(String::as_str).unwrap_or("");
                let text = doc.fonts.prepare(raw);
                doc.fonts.wrap(
                    &text,
                    Face::Regular,
                    SIZE,
                    c.width * CONTENT_W - 2.0 * PAD,
                    max_lines,
                )
            })
            .collect();
        let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = n as f32 * LH + 2.0 * PAD;
        if doc.ensure(h) {
            header(doc, cols);
        }
        if shade {
            doc.rect(MARGIN_X, doc.y - h, CONTENT_W, h, rgb(0.96, 0.96, 0.96));
        }
        shade = !shade;
        let mut x = MARGIN_X;
        let mut run: Vec<(f32, f32, &str)> = Vec::with_capacity(cells.len() * 2);
        for (c, lines) in cols.iter().zip(&cells) {
            for (i, l) in lines.iter().enumerate() {
                run.push((x + PAD, doc.y - PAD - SIZE - i as f32 * LH, l));
            }
            x += c.width * CONTENT_W;
        }
        doc.text_run(&run, Face::Regular, SIZE, black());
        doc.y -= h;
    }
    doc.hline(
        MARGIN_X,
        MARGIN_X + CONTENT_W,
        doc.y,
        0.4,
        rgb(0.6, 0.6, 0.6),
    );
    doc.gap(8.0);
}
