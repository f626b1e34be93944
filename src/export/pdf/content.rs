//! Page content streams written directly from the report's drawing operations. printpdf's
//! own path (ops -> lopdf operations -> bytes, plus a glyph census of every character)
//! took ~40% of a 100k-finding export; the report only draws text, filled rectangles and
//! straight lines, so those few operators are encoded here, glyph ids from the embedded face.

use printpdf::{Color, FontId, Op, PaintMode, PdfFontHandle, TextItem, WindingOrder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

/// Glyph id of each character in the embedded (subset) face, per font resource name.
pub type GlyphTables = HashMap<FontId, HashMap<char, u16>>;

/// True when `op` is one the compactor writes (anything else is a bug, reported on render).
fn supported(op: &Op) -> bool {
    match op {
        Op::StartTextSection
        | Op::EndTextSection
        | Op::SetTextCursor { .. }
        | Op::SetOutlineThickness { .. } => true,
        Op::SetFont { font, .. } => matches!(font, PdfFontHandle::External(_)),
        Op::SetFillColor { col } | Op::SetOutlineColor { col } => matches!(col, Color::Rgb(_)),
        Op::ShowText { items } => items.iter().all(|i| matches!(i, TextItem::Text(_))),
        Op::DrawRectangle { rectangle } => {
            rectangle.mode == Some(PaintMode::Fill)
                && matches!(rectangle.winding_order, None | Some(WindingOrder::NonZero))
        }
        Op::DrawLine { line } => line.points.iter().all(|p| !p.bezier),
        _ => false,
    }
}

/// A number as PDF writes it: at most three decimals, no exponent, no trailing zeros.
fn num(out: &mut String, v: f32) {
    let m = if v.is_finite() {
        (f64::from(v) * 1000.0).round() as i64
    } else {
        0
    };
    if m < 0 {
        out.push('-');
    }
    let a = m.unsigned_abs();
    let _ = write!(out, "{}", a / 1000);
    let f = a % 1000;
    if f != 0 {
        out.push('.');
        let digits = [f / 100, f / 10 % 10, f % 10];
        let keep = if f % 100 == 0 {
            1
        } else if f % 10 == 0 {
            2
        } else {
            3
        };
        for d in &digits[..keep] {
            out.push(char::from(b'0' + *d as u8));
        }
    }
}

fn color(out: &mut String, c: &Color, op: &str) {
    if let Color::Rgb(c) = c {
        for v in [c.r, c.g, c.b] {
            num(out, v);
            out.push(' ');
        }
        out.push_str(op);
        out.push('\n');
    }
}

/// Text is kept as UTF-8 between these markers until the embedded faces are known (their
/// glyph ids exist only after subsetting): `TEXT_START`, the font's index, the text,
/// `TEXT_END`. Text never holds them: control characters are drawn as '?'.
const TEXT_START: char = '\u{1}';
const TEXT_END: char = '\u{2}';

/// Turns finished pages' operations into compact content (everything but the glyph ids
/// final) and records which characters each font draws, so a page's operations can be
/// freed as soon as the page is full.
#[derive(Default)]
pub struct Compactor {
    pub fonts: Vec<FontId>,
    pub used: BTreeMap<FontId, BTreeSet<char>>,
    /// Set when an operation outside `supported` was drawn (a bug, reported on render).
    pub unsupported: bool,
}

impl Compactor {
    /// Appends `ops` to the compact page `out`. A page starts with no font selected.
    pub fn page(&mut self, ops: &[Op], out: &mut String) {
        let mut font: Option<usize> = None;
        for op in ops {
            match op {
                Op::StartTextSection => out.push_str("BT\n"),
                Op::EndTextSection => out.push_str("ET\n"),
                Op::SetFont {
                    font: PdfFontHandle::External(id),
                    size,
                } => {
                    let idx = match self.fonts.iter().position(|f| f == id) {
                        Some(i) => i,
                        None => {
                            self.fonts.push(id.clone());
                            self.fonts.len() - 1
                        }
                    };
                    font = Some(idx);
                    out.push('/');
                    out.push_str(&id.0);
                    out.push(' ');
                    num(out, size.0);
                    out.push_str(" Tf\n");
                }
                Op::SetTextCursor { pos } => {
                    num(out, pos.x.0);
                    out.push(' ');
                    num(out, pos.y.0);
                    out.push_str(" Td\n");
                }
                Op::ShowText { items } if supported(op) => {
                    let Some(idx) = font else {
                        // Text before any font: nothing a reader could draw.
                        continue;
                    };
                    let used = self.used.entry(self.fonts[idx].clone()).or_default();
                    out.push('<');
                    out.push(TEXT_START);
                    out.push(char::from(b'0' + idx as u8));
                    for it in items {
                        if let TextItem::Text(t) = it {
                            for c in t.chars() {
                                let c = if c.is_control() { '?' } else { c };
                                used.insert(c);
                                out.push(c);
                            }
                        }
                    }
                    out.push(TEXT_END);
                    out.push_str("> Tj\n");
                }
                Op::SetFillColor { col } if supported(op) => color(out, col, "rg"),
                Op::SetOutlineColor { col } if supported(op) => color(out, col, "RG"),
                Op::SetOutlineThickness { pt } => {
                    num(out, pt.0);
                    out.push_str(" w\n");
                }
                Op::DrawRectangle { rectangle } if supported(op) => {
                    for v in [rectangle.x, rectangle.y, rectangle.width, rectangle.height] {
                        num(out, v.0);
                        out.push(' ');
                    }
                    out.push_str("re f\n");
                }
                Op::DrawLine { line } if supported(op) => {
                    for (i, p) in line.points.iter().enumerate() {
                        num(out, p.p.x.0);
                        out.push(' ');
                        num(out, p.p.y.0);
                        out.push_str(if i == 0 { " m\n" } else { " l\n" });
                    }
                    if !line.points.is_empty() {
                        out.push_str(if line.is_closed { "h S\n" } else { "S\n" });
                    }
                }
                _ => self.unsupported = true,
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The final content stream of a compact page: each text run as the glyph ids (4 hex
/// digits each) of the embedded face, exactly as printpdf encodes text (0 = no glyph).
pub fn finish(page: &str, fonts: &[FontId], glyphs: &GlyphTables) -> Vec<u8> {
    let mut out = Vec::with_capacity(page.len() * 2);
    let mut rest = page;
    while let Some(i) = rest.find(TEXT_START) {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let after = &rest[i + TEXT_START.len_utf8()..];
        let mut chars = after.chars();
        let table = chars
            .next()
            .and_then(|d| d.to_digit(10))
            .and_then(|d| fonts.get(d as usize))
            .and_then(|id| glyphs.get(id));
        let text = chars.as_str();
        let end = text.find(TEXT_END).unwrap_or(text.len());
        for c in text[..end].chars() {
            let g = table.and_then(|t| t.get(&c)).copied().unwrap_or(0);
            for shift in [12u16, 8, 4, 0] {
                out.push(HEX[usize::from((g >> shift) & 0xf)]);
            }
        }
        rest = text.get(end + TEXT_END.len_utf8()..).unwrap_or("");
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// One page's operations straight to its content stream (tests and small documents).
#[cfg(test)]
fn encode(ops: &[Op], glyphs: &GlyphTables) -> Option<Vec<u8>> {
    let mut c = Compactor::default();
    let mut page = String::new();
    c.page(ops, &mut page);
    if c.unsupported || c.fonts.iter().any(|f| !glyphs.contains_key(f)) {
        return None;
    }
    Some(finish(&page, &c.fonts, glyphs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use printpdf::{Point, Pt, Rect, Rgb};

    #[test]
    fn numbers_are_short_and_never_exponents() {
        let mut s = String::new();
        for v in [7.5f32, 0.0, -0.0001, 595.28, 1e-9, 12.0, f32::NAN] {
            num(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "7.5 0 0 595.28 0 12 0 ");
    }

    #[test]
    fn text_rectangles_and_lines_use_the_pdf_operators() {
        let id = FontId("F1".into());
        let mut g = HashMap::new();
        g.insert('A', 0x24u16);
        g.insert('é', 0x1a3u16);
        let glyphs = GlyphTables::from([(id.clone(), g)]);
        let red = Color::Rgb(Rgb {
            r: 1.0,
            g: 0.0,
            b: 0.25,
            icc_profile: None,
        });
        let mut rect = Rect::from_xywh(Pt(10.0), Pt(20.0), Pt(30.5), Pt(4.0));
        rect.mode = Some(PaintMode::Fill);
        rect.winding_order = Some(WindingOrder::NonZero);
        let ops = vec![
            Op::SetFillColor { col: red.clone() },
            Op::DrawRectangle { rectangle: rect },
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(id),
                size: Pt(7.5),
            },
            Op::SetTextCursor {
                pos: Point {
                    x: Pt(40.0),
                    y: Pt(-12.25),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text("AéZ".into())],
            },
            Op::EndTextSection,
        ];
        let bytes = encode(&ops, &glyphs).unwrap();
        // 'Z' has no glyph in the table: .notdef (0), as printpdf writes it.
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "1 0 0.25 rg\n10 20 30.5 4 re f\nBT\n/F1 7.5 Tf\n40 -12.25 Td\n<002401A30000> Tj\nET\n"
        );
    }

    #[test]
    fn used_characters_follow_the_selected_font() {
        let a = FontId("A".into());
        let b = FontId("B".into());
        let set = |id: &FontId| Op::SetFont {
            font: PdfFontHandle::External(id.clone()),
            size: Pt(9.0),
        };
        let text = |s: &str| Op::ShowText {
            items: vec![TextItem::Text(s.into())],
        };
        let mut c = Compactor::default();
        let (mut p1, mut p2) = (String::new(), String::new());
        c.page(&[set(&a), text("ab"), set(&b), text("c\u{1}")], &mut p1);
        // A page starts with no font selected: its text before a SetFont is not drawn.
        c.page(&[text("z")], &mut p2);
        assert_eq!(c.used[&a], BTreeSet::from(['a', 'b']));
        // Control characters are drawn as '?', so they can never end a text run early.
        assert_eq!(c.used[&b], BTreeSet::from(['c', '?']));
        assert!(p2.is_empty());
        assert!(!c.unsupported);
    }

    #[test]
    fn unknown_operations_and_fonts_are_refused() {
        assert!(encode(&[Op::SaveGraphicsState], &GlyphTables::new()).is_none());
        let text = vec![
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(FontId("nope".into())),
                size: Pt(9.0),
            },
            Op::ShowText {
                items: vec![TextItem::Text("x".into())],
            },
        ];
        assert!(encode(&text, &GlyphTables::new()).is_none());
    }
}
